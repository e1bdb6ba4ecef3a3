"""The read side of the FHIR door: read, vread, history, search and paging, each in the caller's view."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from facade.api.deps import FrontDoorDep, UpstreamDep
from facade.api.responses import FhirResponse, fhir_router
from facade.audit.api import STORED_TYPE
from facade.audit.events import AuditContext
from facade.audit.route import AuditedRoute, audit_context
from facade.errors import Forbidden, InvalidInput, Issue, NotFound
from facade.fhir.capability import SERVED_TYPES
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.present import present_bundle, present_resource, visible
from facade.frontdoor.search import continuation_params, prepare_search
from facade.security.deps import CurrentPrincipal, require
from facade.security.roles import View
from facade.security.tokens import Principal
from facade.upstream import UpstreamClient

router = fhir_router(route_class=AuditedRoute)

TYPE = "{rtype:fhirtype}"
ID = "{rid:fhirid}"


def _served(rtype: str) -> None:
    if rtype not in SERVED_TYPES:
        raise NotFound(f"this server does not serve {rtype} resources")


def _self_url(door: FrontDoor, request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{door.settings.public_base_url}{request.url.path}{query}"


def _real_id(principal: Principal, door: FrontDoor, rtype: str, rid: str) -> str:
    """The stored id the caller means (research ids are decrypted; unknown ones are not found)."""
    if principal.policy.view is not View.DEIDENTIFIED:
        return rid
    real = door.research_ids.decode(rtype, rid)
    if real is None:
        raise NotFound(f"{rtype}/{rid} is not known")
    return real


def _etag(shown: dict[str, Any]) -> dict[str, str]:
    """The ETag of the resource as shown (no version where the view hides it)."""
    version = (shown.get("meta") or {}).get("versionId")
    return {"ETag": f'W/"{version}"'} if isinstance(version, str) else {}


async def _read_visible(
    upstream: UpstreamClient, principal: Principal, path: str, rtype: str, rid: str
) -> dict[str, Any]:
    resource: dict[str, Any] = await upstream.get_json(path)
    if not visible(principal, resource):
        raise NotFound(f"{rtype}/{rid} is not known")  # never reveal another organisation's ids
    return resource


def _opened(
    request: Request,
    principal: Principal,
    rtype: str,
    interaction: str,
    action: str = "R",
    permission: str = "r",
) -> AuditContext:
    """Audit the request as ``interaction`` on ``rtype``, then refuse unserved or forbidden types."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = interaction, action, rtype
    _served(rtype)
    if rtype == STORED_TYPE:  # search and read are facade/audit/api.py's; events never change
        raise NotFound(f"{rtype} has no history here: audit events are never changed")
    require(principal, rtype, permission)
    return ctx


def _history_params(request: Request) -> list[tuple[str, str]]:
    return [
        (k, v) for k, v in request.query_params.multi_items() if k in ("_count", "_since", "_at")
    ]


async def _bundle_answer(
    request: Request,
    ctx: AuditContext,
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
    path: str,
    params: list[tuple[str, str]],
) -> FhirResponse:
    """Fetch a search or history Bundle upstream and present it in the caller's view."""
    bundle = await upstream.get_json(path, _grouped(params))
    body = await present_bundle(bundle, principal, door, upstream, ctx, _self_url(door, request))
    # Serialised once; the upstream's address is replaced in the bytes (URLs need no escaping).
    return FhirResponse(upstream.address.scrub_bytes(orjson.dumps(body)))


async def _resource_answer(
    ctx: AuditContext,
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
    rtype: str,
    rid: str,
    suffix: str = "",
) -> FhirResponse:
    """Read ``rtype/rid`` (plus ``suffix``, e.g. a version) if visible, presented with its ETag."""
    real = _real_id(principal, door, rtype, rid)
    ctx.touch(f"{rtype}/{real}")  # what was asked for is audited, even when it is not shown
    resource = await _read_visible(upstream, principal, f"{rtype}/{real}{suffix}", rtype, rid)
    body = await present_resource(resource, principal, door, upstream, ctx)
    return FhirResponse(upstream.address.scrub_bytes(orjson.dumps(body)), headers=_etag(body))


@router.get("")
async def page(
    request: Request, principal: CurrentPrincipal, door: FrontDoorDep, upstream: UpstreamDep
) -> FhirResponse:
    """The next/previous page of a search this client started (page links are signed per client)."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "search-type", "E"
    params = list(request.query_params.multi_items())
    if not any(k == "_getpages" for k, _ in params):
        raise InvalidInput(
            "system-level search is not offered",
            issues=[
                Issue("url", "search-level", "search a resource type, e.g. GET /fhir/Encounter?...")
            ],
        )
    forwarded = continuation_params(door, principal, params)
    return await _bundle_answer(request, ctx, principal, door, upstream, "", forwarded)


@router.get(f"/{TYPE}")
async def search(
    rtype: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> FhirResponse:
    """Search one resource type (tenant-filtered for hospitals, viewed by role)."""
    ctx = _opened(request, principal, rtype, "search-type", action="E", permission="s")
    params = prepare_search(principal, rtype, list(request.query_params.multi_items()), door)
    return await _bundle_answer(request, ctx, principal, door, upstream, rtype, params)


@router.get(f"/{TYPE}/_history")
async def history_type(
    rtype: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> FhirResponse:
    """Type-level history: only for roles that see every organisation as stored or pseudonymised."""
    ctx = _opened(request, principal, rtype, "history-type")
    rules = principal.policy
    if not rules.history or rules.tenant_scoped:
        raise Forbidden("type-level history is not available to this role; use instance history")
    path = f"{rtype}/_history"
    return await _bundle_answer(
        request, ctx, principal, door, upstream, path, _history_params(request)
    )


@router.get(f"/{TYPE}/{ID}")
async def read(
    rtype: str,
    rid: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> FhirResponse:
    """Read one resource."""
    ctx = _opened(request, principal, rtype, "read")
    return await _resource_answer(ctx, principal, door, upstream, rtype, rid)


@router.get(f"/{TYPE}/{ID}/_history")
async def history_instance(
    rtype: str,
    rid: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> FhirResponse:
    """The versions of one resource (not offered to researchers)."""
    ctx = _opened(request, principal, rtype, "history-instance")
    if not principal.policy.history:
        raise Forbidden("history is not available to this role")
    await _read_visible(upstream, principal, f"{rtype}/{rid}", rtype, rid)
    path = f"{rtype}/{rid}/_history"
    return await _bundle_answer(
        request, ctx, principal, door, upstream, path, _history_params(request)
    )


@router.get(f"/{TYPE}/{ID}/_history/{{vid:fhirid}}")
async def vread(
    rtype: str,
    rid: str,
    vid: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> FhirResponse:
    """One version of one resource (not offered where history is not)."""
    ctx = _opened(request, principal, rtype, "vread")
    if not principal.policy.history:
        raise Forbidden("history is not available to this role")
    return await _resource_answer(ctx, principal, door, upstream, rtype, rid, f"/_history/{vid}")


def _grouped(params: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Repeated parameters (``_include``, ``_tag``) as lists, the way httpx sends them."""
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}
