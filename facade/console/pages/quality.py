"""Data quality: an institution's or the region's data-quality report of a period, and its exports.

Everything on the page comes from one ``QualityService.report`` document (the counters kept at
intake, never HAPI). QC sees the region and any hospital; a hospital only itself — decided by
``facade.quality.service.visible_scope`` before the report is read, so another hospital's code
in the URL is a 403 and nothing of its report is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.api.deps import QualityDep
from facade.audit.route import audit_context
from facade.console.deps import QcOrHospital, Services
from facade.console.grid import pick, to_xlsx
from facade.console.pages.quality_tables import dimensions_option, grids, hospitals_option
from facade.console.route import ConsoleRoute
from facade.console.services import NavEntry
from facade.console.web import attachment, render, texts
from facade.indicators.schedule import recent_periods
from facade.quality.service import QualityService, visible_scope

router = APIRouter(
    prefix="/console/data-quality", route_class=ConsoleRoute, include_in_schema=False
)
NAV = NavEntry("dq", "/console/data-quality", "nav.dq", frozenset({"qc", "hospital"}))


@dataclass(frozen=True)
class Asked:
    """What a request may see: a period (checked), its scope (None: the region) and the choices."""

    period: str
    org: str | None
    periods: list[str]  # selectable, newest first

    @property
    def query(self) -> str:
        """The page's own parameters (links to exports carry these, nothing else)."""
        return urlencode({"period": self.period, **({"org": self.org} if self.org else {})})

    @property
    def scope(self) -> str:
        """The scope in file names: the institution code, or ``region``."""
        return self.org or "region"


def _asked(
    request: Request, user: QcOrHospital, services: Services, quality: QualityService
) -> Asked:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "operation", "R", "MeasureReport"
    params = request.query_params
    org = visible_scope(user.user.role.value, user.user.org_code, params.get("org") or None)
    ctx.extra["scope"] = org or "region"
    tz = quality.reports.rules.config.tz
    settings = services.settings
    recent = recent_periods(
        datetime.fromtimestamp(quality.reports.clock(), tz),
        settings.indicator_refresh_granularity,
        settings.console_trend_periods,
        tz,
    )
    period = quality.reports.period(params.get("period") or recent[0]).label
    ctx.extra["period"] = period
    return Asked(period, org, sorted({*recent, period}, reverse=True))


async def _report(
    request: Request, user: QcOrHospital, services: Services, quality: QualityService
) -> tuple[Asked, dict[str, Any]]:
    """What the request may see, and that scope's report of the period."""
    asked = _asked(request, user, services, quality)
    return asked, await run_in_threadpool(quality.report, asked.period, asked.org)


@router.get("")
async def data_quality(
    request: Request, user: QcOrHospital, services: Services, quality: QualityDep
) -> Response:
    """The report of a period: the region (QC) or one institution."""
    asked, document = await _report(request, user, services, quality)
    qc = user.user.role.value == "qc"
    names = await run_in_threadpool(quality.institutions) if qc else {}
    t = texts(request)
    region = document["kind"] == "region"
    return render(
        request,
        "quality.html",
        doc=document,
        asked=asked,
        grids=grids(document, t),
        hospitals=sorted(names.items()),
        dimensions_chart=dimensions_option(document, t),
        hospitals_chart=hospitals_option(document, t) if region else None,
    )


@router.get("/export")
async def export(
    request: Request, user: QcOrHospital, services: Services, quality: QualityDep
) -> Response:
    """One of the page's tables as an Excel workbook (the rows the page shows)."""
    asked, document = await _report(request, user, services, quality)
    name = request.query_params.get("table", "")
    grid = pick(grids(document, texts(request)), name)
    audit_context(request).extra["export"] = name
    return attachment(to_xlsx(grid), f"dq-{asked.period}-{asked.scope}-{name}.xlsx")


@router.get("/workbook")
async def workbook(
    request: Request, user: QcOrHospital, services: Services, quality: QualityDep
) -> Response:
    """The data-quality workbook (every record id behind every problem, for the hospital's IT)."""
    asked = _asked(request, user, services, quality)
    content = await run_in_threadpool(quality.workbook, asked.period, asked.org)
    audit_context(request).extra["export"] = "workbook"
    return attachment(content, f"vte-dq-{asked.period}-{asked.scope}.xlsx")
