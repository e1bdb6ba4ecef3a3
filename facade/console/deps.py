"""Who may open a page: named dependencies for route signatures (``user: QcOrHospital``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from facade.console.route import SignInRequired
from facade.console.services import ConsoleServices, console_services
from facade.console.sessions import SignedIn
from facade.console.web import signed_in
from facade.errors import Forbidden


def current_user(request: Request) -> SignedIn:
    """The signed-in person; unfinished sign-ins are sent to their next step."""
    signed = signed_in(request)
    if signed is None:
        raise SignInRequired()
    if signed.stage == "second-factor":
        raise SignInRequired("second factor required", location="/console/login/totp")
    if signed.stage == "password-change":
        raise SignInRequired("password change required", location="/console/password")
    return signed


def require_roles(*roles: str) -> Callable[[Request], SignedIn]:
    """A dependency that lets only these roles through (403 for the others)."""

    def check(request: Request) -> SignedIn:
        signed = current_user(request)
        if signed.user.role.value not in roles:
            raise Forbidden(f"role {signed.user.role.value} may not open this page")
        return signed

    return check


def services(request: Request) -> ConsoleServices:
    """The app's console services."""
    return console_services(request.app)


AnyUser = Annotated[SignedIn, Depends(current_user)]
QcOrHospital = Annotated[SignedIn, Depends(require_roles("qc", "hospital"))]
Operators = Annotated[SignedIn, Depends(require_roles("qc", "hospital", "admin"))]
Admin = Annotated[SignedIn, Depends(require_roles("admin"))]
Auditor = Annotated[SignedIn, Depends(require_roles("auditor"))]
Services = Annotated[ConsoleServices, Depends(services)]
