"""HTTP API of the data-quality reports: rules, JSON, Excel, FHIR, publication.

Callers authenticate like every FHIR client (SMART Backend Services token). The ``qc`` role sees
the region and every institution; a ``hospital`` sees only its own report — asking for another
is 403. Every request, refused ones included, is audited like a FHIR request.

    GET  /dq/rules                              the rules catalogue
    GET  /dq/report?period=2026-Q1[&org=...]    JSON (without org: the region, QC only)
    GET  /dq/report.xlsx?period=...[&org=...]   the same as a workbook
    GET  /dq/report/fhir?period=...[&org=...]   the same as MeasureReports (a collection Bundle)
    POST /dq/$publish?period=...[&org=...]      store those MeasureReports in HAPI
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from facade.api.deps import UpstreamDep
from facade.audit.route import AuditedRoute, audit_context
from facade.quality.service import QualityService, visible_scope
from facade.security.deps import CurrentPrincipal, require
from facade.security.tokens import Principal
from facade.services import services_of

router = APIRouter(prefix="/dq", route_class=AuditedRoute, tags=["data quality"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def quality_service(app: FastAPI) -> QualityService:
    """The app's QualityService (built by ``facade.services.build_services``)."""
    return services_of(app).quality


@dataclass(frozen=True)
class Asked:
    """What a report request may see: the period, the scope (None: the region) and the service."""

    period: str
    scope: str | None
    service: QualityService


def _asked(
    action: str,
) -> Callable[[Request, Principal, str, str | None], Asked]:
    def dependency(
        request: Request,
        principal: CurrentPrincipal,
        period: str = Query(
            ..., description="Reporting period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM."
        ),
        org: str | None = Query(
            None, description="Institution code; omit for the region (QC only)."
        ),
    ) -> Asked:
        ctx = audit_context(request)
        ctx.interaction, ctx.action, ctx.resource_type = "operation", action, "MeasureReport"
        require(principal, "MeasureReport", "r")
        scope = visible_scope(principal.role.value, principal.org_code, org)
        return Asked(period, scope, quality_service(request.app))

    return dependency


Read = Annotated[Asked, Depends(_asked("R"))]
Publish = Annotated[Asked, Depends(_asked("E"))]


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get("/rules", summary="The data-quality rules in force")
async def rules(request: Request, principal: CurrentPrincipal) -> Response:
    """Every check with its dimension, Kahn category, severity and threshold."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "read", "R", "Measure"
    visible_scope(principal.role.value, principal.org_code, None)
    return _json(quality_service(request.app).rules())


@router.get("/report", summary="Data-quality report of a period (JSON)")
async def report(asked: Read) -> Response:
    """An institution's report, or the region's (QC without ``org``)."""
    return _json(await run_in_threadpool(asked.service.report, asked.period, asked.scope))


@router.get("/report.xlsx", summary="Data-quality report of a period (Excel)")
async def workbook(asked: Read) -> Response:
    """The report as a workbook: scores, problems and every record id behind them."""
    content = await run_in_threadpool(asked.service.workbook, asked.period, asked.scope)
    name = f"vte-dq-{asked.period}-{asked.scope or 'region'}.xlsx"
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/report/fhir", summary="Data-quality report of a period (FHIR MeasureReports)")
async def fhir(asked: Read) -> Response:
    """The MeasureReports (profile vte-dq-measurereport) in a collection Bundle, not stored."""
    reports = await run_in_threadpool(asked.service.measure_reports, asked.period, asked.scope)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in reports],
    }
    return Response(orjson.dumps(bundle), media_type="application/fhir+json")


@router.post("/$publish", summary="Store the data-quality MeasureReports of a period in HAPI")
async def publish(asked: Publish, upstream: UpstreamDep) -> Response:
    """QC without ``org``: the region and every hospital; otherwise one institution."""
    stored = await asked.service.publish(upstream, asked.period, asked.scope)
    return _json({"period": asked.period, "scope": asked.scope, "measureReports": stored})
