"""``GET /fhir/AuditEvent`` (search) and ``GET /fhir/AuditEvent/{id}`` (read), served from the audit store.

For auditors (role ``auditor``, scope ``system/AuditEvent.rs``). Every answered request's event
is already committed (facade/audit/log.py), so a search sees them all. The stored JSON is embedded in
the answer as is (no parse, no re-serialisation). Events never change, so there is no history:
``_history`` on AuditEvent answers 404 (facade/frontdoor/read.py).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request, Response

from facade.api.deps import ServicesDep
from facade.api.responses import FHIR_JSON
from facade.audit.route import AuditedRoute, audit_context
from facade.audit.search import parse_search
from facade.errors import NotFound
from facade.indicators.service import catalog
from facade.security.deps import CurrentPrincipal, require

router = APIRouter(prefix="/fhir", route_class=AuditedRoute, tags=["fhir"])
STORED_TYPE = "AuditEvent"


@router.get(f"/{STORED_TYPE}")
async def search(request: Request, principal: CurrentPrincipal, services: ServicesDep) -> Response:
    """Search the stored AuditEvents (newest first unless ``_sort=date``), paged by ``next`` links."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "search-type", "E", STORED_TYPE
    require(principal, STORED_TYPE, "s")
    params = list(request.query_params.multi_items())
    query, count_only = parse_search(params, catalog(services.settings).definitions.rules.tz)
    base = f"{services.settings.public_base_url}/fhir/{STORED_TYPE}"
    self_link = {"relation": "self", "url": f"{base}?{request.url.query}" if params else base}
    log = services.audit
    if count_only:
        total = await asyncio.to_thread(log.store.count, query)
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": [self_link],
        }
        return Response(orjson.dumps(bundle), media_type=FHIR_JSON)
    page = await asyncio.to_thread(log.search, query)
    links = [self_link]
    if page.next is not None:
        kept = [(k, v) for k, v in params if k != "_cursor"]
        links.append(
            {
                "relation": "next",
                "url": f"{base}?{urlencode([*kept, ('_cursor', page.next.token())])}",
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{event_id}",
                "resource": orjson.Fragment(body),
                "search": {"mode": "match"},
            }
            for event_id, body in page.events
        ],
    }
    return Response(orjson.dumps(bundle), media_type=FHIR_JSON)


@router.get(f"/{STORED_TYPE}/{{rid:fhirid}}")
async def read(
    rid: str, request: Request, principal: CurrentPrincipal, services: ServicesDep
) -> Response:
    """One stored AuditEvent."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "read", "R", STORED_TYPE
    require(principal, STORED_TYPE, "r")
    ctx.touch(f"{STORED_TYPE}/{rid}")
    body = await asyncio.to_thread(services.audit.store.get, rid)
    if body is None:
        raise NotFound(f"{STORED_TYPE}/{rid} is not known")
    return Response(body, media_type=FHIR_JSON)
