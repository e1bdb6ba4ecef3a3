"""Sign-in (password, then TOTP when the account has it), password change, sign-out, language."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.audit.route import audit_context
from facade.console.deps import AnyUser, Services
from facade.console.i18n import LANGUAGES
from facade.console.route import ConsoleRoute, SignInRequired
from facade.console.web import (
    LANGUAGE_COOKIE,
    clear_session,
    redirect,
    render,
    safe_next,
    session_cookie,
    set_session,
    signed_in,
    texts,
)
from facade.errors import InvalidInput, NotAuthenticated

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _signed_in_as(
    request: Request, user_id: int, username: str, name: str, role: str, org: str | None
) -> None:
    ctx = audit_context(request)
    ctx.client_id, ctx.client_name, ctx.role, ctx.org_code = username, name, role, org
    ctx.touch(f"console-user/{user_id}")


@router.get("/")
async def home(user: AnyUser, services: Services) -> Response:
    """The first page the person's role may open."""
    pages = services.nav(user.user.role.value)
    return redirect(pages[0].path if pages else "/console/account")


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    ctx = audit_context(request)
    ctx.interaction = "read"
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def login(
    request: Request,
    services: Services,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/console/"),
) -> Response:
    """Check the password; continue to the second factor or straight in."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.client_id = "login", "E", username[:64] or None
    try:
        user = await run_in_threadpool(services.users.check_password, username.strip(), password)
    except NotAuthenticated as exc:
        ctx.detail = exc.message
        return render(
            request,
            "login.html",
            status=401,
            next=safe_next(next),
            error=texts(request)("signin.wrong"),
        )
    _signed_in_as(
        request, user.id, user.username, user.display_name, user.role.value, user.org_code
    )
    if user.second_factor:
        stage = "second-factor"
    elif user.must_change_password:
        stage = "password-change"
    else:
        stage = "active"
    ctx.authenticated = stage == "active"
    ctx.detail = f"password accepted; next: {stage}"
    token = await run_in_threadpool(services.sessions.start, user.id, stage, _remote(request))
    target = {
        "second-factor": "/console/login/totp",
        "password-change": "/console/password",
    }.get(stage, safe_next(next))
    response = redirect(target if stage == "active" else f"{target}?next={safe_next(next)}")
    set_session(response, services.settings, token)
    return response


@router.get("/login/totp")
async def totp_form(request: Request, next: str | None = None) -> Response:
    """The one-time code form (only between password and second factor)."""
    signed = signed_in(request)
    if signed is None or signed.stage != "second-factor":
        raise SignInRequired()
    return render(request, "totp.html", next=safe_next(next), error=None)


@router.post("/login/totp")
async def totp(
    request: Request,
    services: Services,
    code: str = Form(""),
    next: str = Form("/console/"),
) -> Response:
    """Check the one-time code; a new session replaces the half-signed-in one."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "login", "E"
    signed = signed_in(request)
    if signed is None or signed.stage != "second-factor":
        raise SignInRequired()
    try:
        user = await run_in_threadpool(services.users.check_code, signed.user.id, code)
    except NotAuthenticated as exc:
        ctx.detail = exc.message
        return render(
            request,
            "totp.html",
            status=401,
            next=safe_next(next),
            error=texts(request)("signin.wrong_code"),
        )
    stage = "password-change" if user.must_change_password else "active"
    ctx.authenticated = stage == "active"
    ctx.detail = f"second factor accepted; next: {stage}"
    old = request.cookies.get(_cookie(services))
    token = await run_in_threadpool(services.sessions.advance, old or "", stage, _remote(request))
    if token is None:
        raise SignInRequired()
    response = redirect("/console/password" if stage == "password-change" else safe_next(next))
    set_session(response, services.settings, token)
    return response


@router.get("/password")
async def password_form(request: Request) -> Response:
    """Change the password (required after an account is created or reset)."""
    signed = signed_in(request)
    if signed is None or signed.stage == "second-factor":
        raise SignInRequired()
    return render(
        request, "password.html", error=None, issues=[], forced=signed.stage == "password-change"
    )


@router.post("/password")
async def change_password(
    request: Request,
    services: Services,
    current: str = Form(""),
    new: str = Form(""),
    repeat: str = Form(""),
) -> Response:
    """Set a new password; the session is replaced by a fully signed-in one."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "update", "U"
    ctx.resource_type = "console-user"
    signed = signed_in(request)
    if signed is None or signed.stage == "second-factor":
        raise SignInRequired()
    t = texts(request)
    forced = signed.stage == "password-change"
    if new != repeat:
        return render(
            request,
            "password.html",
            status=400,
            error=t("password.mismatch"),
            issues=[],
            forced=forced,
        )
    try:
        await run_in_threadpool(services.users.change_password, signed.user.id, current, new)
    except (InvalidInput, NotAuthenticated) as exc:
        ctx.detail = exc.message
        return render(
            request,
            "password.html",
            status=400,
            error=exc.message,
            issues=exc.issues,
            forced=forced,
        )
    token = await run_in_threadpool(
        services.sessions.advance,
        request.cookies.get(_cookie(services)) or "",
        "active",
        _remote(request),
    )
    if token is None:
        raise SignInRequired()
    response = redirect("/console/")
    set_session(response, services.settings, token)
    return response


@router.post("/logout")
async def logout(request: Request, services: Services) -> Response:
    """End the session."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "logout", "E"
    await run_in_threadpool(services.sessions.end, request.cookies.get(_cookie(services)))
    response = redirect("/console/login")
    clear_session(response, services.settings)
    return response


@router.get("/language")
async def switch_language(
    request: Request, set: str = "zh-CN", next: str | None = None
) -> Response:
    """Remember the chosen language and go back."""
    response = redirect(safe_next(next))
    if set in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, set, samesite="lax", path="/", max_age=365 * 86400)
    return response


@router.get("/account")
async def account(request: Request, user: AnyUser) -> Response:
    """Who is signed in (the page of a role without other pages)."""
    return render(request, "account.html")


def _cookie(services: Services) -> str:
    return session_cookie(services.settings)
