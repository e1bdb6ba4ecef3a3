"""FastAPI dependencies of the FHIR door: the authenticated caller of a request and its rights."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from facade.api.deps import CallersDep
from facade.audit.route import audit_context
from facade.errors import Forbidden, NotAuthenticated
from facade.security.tokens import Principal, claimed_client


async def current_principal(request: Request, callers: CallersDep) -> Principal:
    """The caller, from ``Authorization: Bearer <access token>``; 401 when absent or invalid.

    ``CallerCheck.principal`` decides (token, client, institution), in a worker thread unless
    the token's caller was checked moments ago. The claimed client id goes into the audit
    context first, so refused requests are attributed.
    """
    ctx = audit_context(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a bearer access token is required (SMART Backend Services)")
    token = token.strip()
    principal = callers.cached_principal(token)
    if principal is None:
        ctx.client_id = claimed_client(token)
        principal = await run_in_threadpool(callers.principal, token)
    ctx.client_id = principal.client_id
    ctx.client_name = principal.name
    ctx.role = principal.role.value
    ctx.org_code = principal.org_code
    ctx.authenticated = True
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(principal: Principal, resource_type: str, perm: str) -> None:
    """Refuse (403) unless both the role and the token's scopes allow ``perm`` on the type."""
    if perm not in principal.policy.permissions(resource_type):
        verb = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}[perm]
        raise Forbidden(f"role {principal.role.value} may not {verb} {resource_type}")
    if not principal.scopes.allows(resource_type, perm):
        raise Forbidden(f"token lacks scope system/{resource_type}.{perm}")
