"""Registry (admin): admit, disable and enable institutions; VTE-X credentials; SMART clients.

Every action calls the same service functions as the CLI (facade.native.orgs / credentials,
facade.security.clients). A new or rotated secret is shown once, in the answer to the form,
never stored in clear and never shown again.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.api.deps import UpstreamDep
from facade.audit.route import audit_context
from facade.console.deps import Admin, Services
from facade.console.route import ConsoleRoute
from facade.console.web import redirect, render
from facade.errors import FacadeError, InvalidInput, Issue
from facade.native import credentials, orgs
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.security.clients import ClientRegistry
from facade.security.roles import Role

router = APIRouter(prefix="/console/registry", route_class=ConsoleRoute, include_in_schema=False)


def _state(services: Services) -> dict[str, Any]:
    with services.database.session() as session:
        institutions = orgs.list_orgs(session)
        apps = credentials.list_apps(session)
    clients = ClientRegistry(services.database).list()
    return {
        "institutions": institutions,
        "apps": apps,
        "clients": clients,
        "grades": orgs.ADMITTED_GRADES,
        "roles": [r.value for r in Role],
        "sign_types": credentials.DEFAULT_SIGN_TYPES,  # no SM2 key field here: SM2 via the CLI
    }


async def _page(
    request: Request,
    services: Services,
    *,
    status: int = 200,
    error: FacadeError | None = None,
    secret: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    state = await run_in_threadpool(_state, services)
    return render(
        request,
        "registry.html",
        status=status,
        error=error,
        secret=secret,
        done=done or request.query_params.get("done"),
        **state,
    )


def _audit(request: Request, interaction: str, action: str, what: str) -> None:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = interaction, action, what.partition("/")[0]
    ctx.touch(what)


def _box(services: Services) -> SecretBox:
    return SecretBox.for_purpose(services.settings, APP_SECRETS)


@router.get("")
async def registry(request: Request, user: Admin, services: Services) -> Response:
    """Institutions, their apps and the SMART clients."""
    audit_context(request).interaction = "search-type"
    return await _page(request, services)


@router.post("/orgs")
async def admit(
    request: Request,
    user: Admin,
    services: Services,
    upstream: UpstreamDep,
    org_code: str = Form(""),
    name: str = Form(""),
    grade: str = Form(""),
    vte_system: str = Form(""),
) -> Response:
    """Admit an institution (admission rule checked; the FHIR Organization first)."""
    code = org_code.strip().upper()
    _audit(request, "create", "C", f"Organization/{code or '-'}")
    try:
        await services.institutions.admit(
            upstream, code, name, grade=grade, has_vte_system=vte_system == "yes"
        )
    except FacadeError as exc:
        audit_context(request).detail = exc.message[:200]
        return await _page(request, services, status=exc.status, error=exc)
    return redirect(f"/console/registry?done=admitted:{code}")


@router.post("/orgs/{org_code}/status")
async def org_status(
    org_code: str,
    request: Request,
    user: Admin,
    services: Services,
    upstream: UpstreamDep,
    active: str = Form(...),
) -> Response:
    """Disable (its apps refused at once) or enable an institution."""
    _audit(request, "update", "U", f"Organization/{org_code}")
    summary, problem = await services.institutions.change_status(
        upstream, org_code, active=active == "yes"
    )
    if problem:
        audit_context(request).detail = f"registry updated; FHIR Organization not: {problem}"[:200]
    return redirect(f"/console/registry?done={summary.status}:{org_code}")


@router.post("/apps")
async def issue(
    request: Request,
    user: Admin,
    services: Services,
    org_code: str = Form(""),
    name: str = Form(""),
    sign_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Issue an app credential (key version 1); the secret is shown once."""
    _audit(request, "create", "C", f"native-app/{org_code or '-'}")

    def work() -> credentials.IssuedSecret:
        with services.database.session() as session:
            return credentials.issue_app(
                session,
                _box(services),
                org_code.strip(),
                name=name.strip() or org_code.strip(),
                sign_types=sign_types or credentials.DEFAULT_SIGN_TYPES,
            )

    try:
        issued = await run_in_threadpool(work)
    except FacadeError as exc:
        return await _page(request, services, status=exc.status, error=exc)
    audit_context(request).touch(f"native-app/{issued.app_id}")
    return await _page(request, services, secret=issued.as_dict())


@router.post("/apps/{app_id}/rotate")
async def rotate(request: Request, app_id: str, user: Admin, services: Services) -> Response:
    """Issue the next key version (the previous one keeps working until completed)."""
    _audit(request, "update", "U", f"native-app/{app_id}")

    def work() -> credentials.IssuedSecret:
        with services.database.session() as session:
            return credentials.rotate_key(session, _box(services), app_id)

    issued = await run_in_threadpool(work)
    return await _page(request, services, secret=issued.as_dict())


@router.post("/apps/{app_id}/complete")
async def complete(request: Request, app_id: str, user: Admin, services: Services) -> Response:
    """Finish a rotation: only the newest key version stays valid."""
    _audit(request, "update", "U", f"native-app/{app_id}")

    def work() -> list[int]:
        with services.database.session() as session:
            return credentials.complete_rotation(session, app_id)

    await run_in_threadpool(work)
    return redirect(f"/console/registry?done=completed:{app_id}")


@router.post("/apps/{app_id}/revoke")
async def revoke(
    request: Request, app_id: str, user: Admin, services: Services, confirm: str = Form("")
) -> Response:
    """Revoke an app for good (its secrets are wiped)."""
    _audit(request, "delete", "D", f"native-app/{app_id}")
    if confirm != app_id:
        raise InvalidInput(
            "revoking is irreversible: type the appId to confirm",
            issues=[Issue("confirm", "equals-appId", f"type {app_id}")],
        )

    def work() -> None:
        with services.database.session() as session:
            credentials.revoke_app(session, app_id)

    await run_in_threadpool(work)
    return redirect(f"/console/registry?done=revoked:{app_id}")


@router.post("/clients")
async def register_client(
    request: Request,
    user: Admin,
    services: Services,
    name: str = Form(""),
    role: str = Form(""),
    org_code: str = Form(""),
    scopes: str = Form(""),
    jwks: str = Form(""),
) -> Response:
    """Register a SMART Backend Services client with its public key set."""
    _audit(request, "create", "C", "api-client/-")
    try:
        key_set = orjson.loads(jwks) if jwks.strip() else None
    except orjson.JSONDecodeError:
        error = InvalidInput(
            "client registration refused",
            issues=[Issue("jwks", "json", "the public key set must be JSON (a JWKS)")],
        )
        return await _page(request, services, status=400, error=error)
    try:
        info = await run_in_threadpool(
            lambda: ClientRegistry(services.database).register(
                name=name,
                role=role,
                jwks=key_set,
                scopes=scopes.split(),
                org_code=org_code.strip() or None,
            )
        )
    except FacadeError as exc:
        return await _page(request, services, status=exc.status, error=exc)
    audit_context(request).touch(f"api-client/{info.client_id}")
    return redirect(f"/console/registry?done=registered:{info.client_id}")


@router.post("/clients/{client_id}/disable")
async def disable_client(
    request: Request, client_id: str, user: Admin, services: Services
) -> Response:
    """Stop a client: no new tokens; its live tokens fail from the next request."""
    _audit(request, "update", "U", f"api-client/{client_id}")
    await run_in_threadpool(ClientRegistry(services.database).disable, client_id)
    return redirect(f"/console/registry?done=disabled:{client_id}")
