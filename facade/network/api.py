"""HTTP API of a parent facade for its child regions: reports, linkage data, benchmarks.

Children authenticate as SMART Backend Services clients of role ``region``
(``vte-facade region register``); each may act only for the region codes bound to its client.
Every request, refused ones included, is audited like a FHIR request.

    POST /fhir/Measure/$submit-data          a region's summary reports of one period (Parameters)
    PUT  /network/v1/linkage/{period}        a region's linkage data of one period
    GET  /network/v1/linkage/{period}?region the parent's answer (attributed stays, completeness)
    GET  /network/v1/benchmarks/{period}     the area's value and percentile bands per indicator
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from facade.audit.route import AuditedRoute, audit_context
from facade.errors import Forbidden, InvalidInput, Issue
from facade.network.parent import ParentService
from facade.security.deps import CurrentPrincipal, require
from facade.security.roles import Role
from facade.security.tokens import Principal
from facade.services import services_of

router = APIRouter(route_class=AuditedRoute, tags=["network"])

# Who may read the benchmarks: the children, and this platform's QC managers.
BENCHMARK_READERS = (Role.REGION, Role.QC)


def _parent(request: Request) -> ParentService:
    return services_of(request.app).network.parent


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            "the body is not JSON", issues=[Issue("(body)", "json", str(exc)[:200])]
        ) from exc


def _submitting(request: Request, principal: Principal, action: str) -> None:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "operation", action, "MeasureReport"
    if principal.role is not Role.REGION:
        raise Forbidden(f"role {principal.role.value} may not submit a region's data")
    require(principal, "MeasureReport", "c")


@router.post("/fhir/Measure/$submit-data")
async def submit_data(request: Request, principal: CurrentPrincipal) -> Response:
    """Store a child region's summary reports of one period (idempotent)."""
    _submitting(request, principal, "C")
    return _json(await _parent(request).submit_reports(principal.client_id, await _body(request)))


@router.put("/network/v1/linkage/{period}")
async def put_linkage(request: Request, period: str, principal: CurrentPrincipal) -> Response:
    """Store a child region's linkage data of one period (idempotent); answer its stays."""
    _submitting(request, principal, "U")
    return _json(
        await _parent(request).put_linkage(principal.client_id, period, await _body(request))
    )


@router.get("/network/v1/linkage/{period}")
async def get_linkage(
    request: Request,
    period: str,
    principal: CurrentPrincipal,
    region: str = Query(..., description="The child region (6-digit code)."),
) -> Response:
    """The parent's answer to a region for a period (no pseudonyms, only its own stay tokens)."""
    _submitting(request, principal, "R")
    return _json(await _parent(request).linkage_answer(principal.client_id, region, period))


@router.get("/network/v1/benchmarks/{period}")
async def benchmarks(request: Request, period: str, principal: CurrentPrincipal) -> Response:
    """The area's value and hospital percentile bands per indicator."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "operation", "R", "MeasureReport"
    if principal.role not in BENCHMARK_READERS:
        raise Forbidden(f"role {principal.role.value} may not read the network's benchmarks")
    return _json(await _parent(request).benchmarks(period))
