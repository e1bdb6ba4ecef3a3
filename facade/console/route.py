"""ConsoleRoute: every console page is audited like an API request, and every form is CSRF-checked.

Before the handler runs, the route finds the session behind the cookie (attributing the audit
event to the person) and, for any unsafe method, compares the form's ``csrf_token`` with the
session's (or, before sign-in, with the pre-sign-in cookie). The check lives here, not in each
handler, so no form can forget it. Errors become HTML pages; "sign in first" becomes a redirect.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from facade.audit.route import AuditedRoute, audit_context
from facade.console.services import console_services
from facade.console.web import (
    PRE_SIGNIN_COOKIE,
    SECURITY_HEADERS,
    redirect,
    render,
    session_cookie,
)
from facade.errors import FacadeError, Forbidden, NotAuthenticated, http_status_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(NotAuthenticated):
    """Nobody is signed in (or the session expired): go to ``location`` to sign in."""

    def __init__(self, message: str = "sign in first", *, location: str = "/console/login") -> None:
        super().__init__(message)
        self.location = location


class CsrfRefused(Forbidden):
    """A form came without its CSRF token, or with someone else's."""


class ConsoleRoute(AuditedRoute):
    """Route class of every console page and action."""

    door: ClassVar[str] = "console"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = APIRoute.get_route_handler(self)

        async def guarded(request: Request) -> Response:
            await _identify(request)
            if request.method not in SAFE_METHODS:
                await _check_csrf(request)
            response = await inner(request)
            response.headers.update(SECURITY_HEADERS)
            return response

        return self.audited(guarded)

    def render_error(self, request: Request, exc: FacadeError) -> Response:
        if isinstance(exc, SignInRequired):
            target = exc.location
            if target == "/console/login" and request.method == "GET":
                here = request.url.path + ("?" + request.url.query if request.url.query else "")
                target += "?next=" + quote(here, safe="")
            response: Response = redirect(target)
        else:
            response = render(
                request,
                "error.html",
                status=http_status_of(exc),
                status_code=http_status_of(exc),
                message=exc.message,
                issues=exc.issues,
            )
        response.headers.update(SECURITY_HEADERS)
        return response


async def _identify(request: Request) -> None:
    services = console_services(request.app)
    token = request.cookies.get(session_cookie(services.settings))
    signed = await run_in_threadpool(services.sessions.lookup, token)
    request.state.console = signed
    ctx = audit_context(request)
    ctx.interaction = "read" if request.method in SAFE_METHODS else "operation"
    if signed is not None:
        user = signed.user
        ctx.client_id, ctx.client_name = user.username, user.display_name
        ctx.role, ctx.org_code = user.role.value, user.org_code
        ctx.authenticated = signed.active


async def _check_csrf(request: Request) -> None:
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    signed = getattr(request.state, "console", None)
    expected = signed.csrf_token if signed is not None else request.cookies.get(PRE_SIGNIN_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRefused("form refused: its CSRF token is missing or wrong (reload the page)")
