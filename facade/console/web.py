"""Rendering and cookies: every console page goes through ``render``.

Cookies: the session token (``HttpOnly``, ``SameSite=Strict``; ``Secure`` and the ``__Host-``
prefix when served over https), a pre-sign-in CSRF token for the sign-in form (double submit),
and the chosen language.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from facade.console.grid import XLSX_MEDIA_TYPE
from facade.console.i18n import LANGUAGES, Translator, translator
from facade.console.services import console_services
from facade.console.sessions import SignedIn
from facade.settings import Settings

LANGUAGE_COOKIE = "vte_console_lang"
PRE_SIGNIN_COOKIE = "vte_console_pre"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Inline style attributes: ECharts' tooltips are built from HTML with style attributes.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
}


def session_cookie(settings: Settings) -> str:
    """Name of the session cookie (``__Host-`` needs Secure, so only over https)."""
    return "__Host-vte_console" if settings.console_secure_cookies else "vte_console"


def set_session(response: Response, settings: Settings, token: str) -> None:
    """Give the browser its session token."""
    response.set_cookie(
        session_cookie(settings),
        token,
        httponly=True,
        secure=settings.console_secure_cookies,
        samesite="strict",
        path="/",
    )


def clear_session(response: Response, settings: Settings) -> None:
    """Make the browser forget its session token."""
    response.delete_cookie(
        session_cookie(settings),
        path="/",
        secure=settings.console_secure_cookies,
        httponly=True,
        samesite="strict",
    )


def signed_in(request: Request) -> SignedIn | None:
    """The session the console route found for this request (None: nobody signed in)."""
    found = getattr(request.state, "console", None)
    return found if isinstance(found, SignedIn) else None


def language(request: Request) -> str:
    """The language chosen by cookie, else the configured default (zh-CN)."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return (
        chosen if chosen in LANGUAGES else console_services(request.app).settings.console_language
    )


def texts(request: Request) -> Translator:
    """The translator of the request's language."""
    return translator(language(request))


def pre_signin_token(request: Request) -> str:
    """The sign-in form's CSRF token: the browser's pre-sign-in cookie, or a new one."""
    existing = getattr(request.state, "console_pre", None)
    if isinstance(existing, str):
        return existing
    token = request.cookies.get(PRE_SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    request.state.console_pre = token
    return token


def local_time(moment: datetime | str | None, tz: timezone) -> str:
    """``2026-12-05 09:30`` in the reporting zone ("" for nothing)."""
    if moment is None or moment == "":
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page in the request's language, with what every page needs."""
    services = console_services(request.app)
    signed = signed_in(request)
    t = texts(request)
    csrf = signed.csrf_token if signed else pre_signin_token(request)
    page = services.templates.get_template(template).render(
        t=t,
        lang=t.language,
        languages=LANGUAGES,
        user=signed.user if signed and signed.active else None,
        nav=services.nav(signed.user.role.value) if signed and signed.active else [],
        here=request.url.path,
        here_query=quote(
            str(request.url.path) + ("?" + request.url.query if request.url.query else ""), safe=""
        ),
        csrf=csrf,
        vendor_problems=services.vendor_problems,
        idle_minutes=services.settings.console_idle_minutes,
        **context,
    )
    response = HTMLResponse(page, status_code=status)
    if signed is None and request.cookies.get(PRE_SIGNIN_COOKIE) != csrf:
        response.set_cookie(
            PRE_SIGNIN_COOKIE,
            csrf,
            httponly=True,
            secure=services.settings.console_secure_cookies,
            samesite="strict",
            path="/console",
            max_age=int(timedelta(hours=1).total_seconds()),
        )
    return response


def attachment(content: bytes, filename: str, media_type: str = XLSX_MEDIA_TYPE) -> Response:
    """A file download; ``filename`` is built by the caller from checked parts only."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def redirect(location: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs the next page."""
    return RedirectResponse(location, status_code=303)


def safe_next(value: str | None) -> str:
    """A post-sign-in destination that stays inside the console (no open redirect)."""
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"
