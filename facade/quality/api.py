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

from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from facade.api.deps import UpstreamDep
from facade.audit.route import AuditedRoute, audit_context
from facade.quality.service import QualityService, visible_scope
from facade.security.deps import CurrentPrincipal, require
from facade.security.tokens import Principal

router = APIRouter(prefix="/dq", route_class=AuditedRoute, tags=["data quality"])

PeriodQuery = Query(..., description="Reporting period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM.")
OrgQuery = Query(None, description="Institution code; omit for the region (QC only).")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def quality_service(app: FastAPI) -> QualityService:
    """The app's QualityService (made on first use from the app's settings and database)."""
    existing = getattr(app.state, "quality", None)
    if isinstance(existing, QualityService):
        return existing
    service = QualityService(app.state.settings, app.state.database)
    app.state.quality = service
    return service


def _scope(request: Request, principal: Principal, org: str | None, action: str) -> str | None:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "operation", action, "MeasureReport"
    require(principal, "MeasureReport", "r")
    return visible_scope(principal.role.value, principal.org_code, org)


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get("/rules", summary="The data-quality rules in force")
async def rules(request: Request, principal: CurrentPrincipal) -> Response:
    """Every check with its dimension, Kahn category, severity and threshold."""
    _scope(request, principal, None, "R")
    return _json(quality_service(request.app).rules())


@router.get("/report", summary="Data-quality report of a period (JSON)")
async def report(
    request: Request,
    principal: CurrentPrincipal,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
) -> Response:
    """An institution's report, or the region's (QC without ``org``)."""
    scope = _scope(request, principal, org, "R")
    service = quality_service(request.app)
    return _json(await run_in_threadpool(service.report, period, scope))


@router.get("/report.xlsx", summary="Data-quality report of a period (Excel)")
async def workbook(
    request: Request,
    principal: CurrentPrincipal,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
) -> Response:
    """The report as a workbook: scores, problems and every record id behind them."""
    scope = _scope(request, principal, org, "R")
    content = await run_in_threadpool(quality_service(request.app).workbook, period, scope)
    name = f"vte-dq-{period}-{scope or 'region'}.xlsx"
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/report/fhir", summary="Data-quality report of a period (FHIR MeasureReports)")
async def fhir(
    request: Request,
    principal: CurrentPrincipal,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
) -> Response:
    """The MeasureReports (profile vte-dq-measurereport) in a collection Bundle, not stored."""
    scope = _scope(request, principal, org, "R")
    reports = await run_in_threadpool(quality_service(request.app).measure_reports, period, scope)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in reports],
    }
    return Response(orjson.dumps(bundle), media_type="application/fhir+json")


@router.post("/$publish", summary="Store the data-quality MeasureReports of a period in HAPI")
async def publish(
    request: Request,
    principal: CurrentPrincipal,
    upstream: UpstreamDep,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
) -> Response:
    """QC without ``org``: the region and every hospital; otherwise one institution."""
    scope = _scope(request, principal, org, "E")
    stored = await quality_service(request.app).publish(upstream, period, scope)
    return _json({"period": period, "scope": scope, "measureReports": stored})
