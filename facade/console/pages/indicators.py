"""Indicators: the stored MeasureReports of a period, trend, hospitals, strata, drill-down, recompute."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from facade.api.deps import UpstreamDep
from facade.audit.route import audit_context
from facade.console.charts import hospitals_option, trend_option
from facade.console.deps import QcOrHospital, Services
from facade.console.grid import Cell, Grid, pick, to_xlsx
from facade.console.i18n import Translator
from facade.console.indicator_data import Figure, IndicatorPage, load_page
from facade.console.route import ConsoleRoute
from facade.console.stays import StaysPage, load_stays
from facade.console.web import attachment, redirect, render, texts
from facade.db import Database
from facade.errors import InvalidInput, Issue
from facade.indicators.periods import parse_period
from facade.indicators.service import catalog, visible_scope
from facade.native.tables import NativeOrg
from facade.network.benchmarks import stored_benchmark

router = APIRouter(prefix="/console/indicators", route_class=ConsoleRoute, include_in_schema=False)
POPULATIONS = ("initial-population", "denominator", "denominator-exclusion", "numerator")


def _names(database: Database) -> dict[str, str]:
    with database.session() as session:
        return dict(session.execute(select(NativeOrg.org_code, NativeOrg.name)).all())


def _name(t: Translator, indicator: Any) -> str:
    return str(indicator.name.zh if t.language == "zh-CN" else indicator.name.en)


def _link(base: Mapping[str, str | None] | None = None, **params: str | None) -> str:
    merged = {**(base or {}), **params}
    return "?" + urlencode({k: v for k, v in merged.items() if v})


def _audit(request: Request, interaction: str, org: str | None) -> None:
    ctx = audit_context(request)
    ctx.interaction, ctx.resource_type = interaction, "MeasureReport"
    if org:
        ctx.extra["scope"] = org


async def _page(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> tuple[IndicatorPage, dict[str, str]]:
    params = request.query_params
    _audit(request, "search-type", None)
    org = visible_scope(user.user.role.value, user.user.org_code, params.get("org") or None)
    _audit(request, "search-type", org)
    names = await run_in_threadpool(_names, services.database)
    page = await load_page(
        services.settings,
        upstream,
        period=params.get("period") or None,
        org=org,
        indicator_id=params.get("indicator") or None,
        names=names,
        now=datetime.now(UTC),
        cache=services.reports,
    )
    return page, names


def _figure_cells(figure: Figure | None, stays: str | None = None) -> list[Cell]:
    if figure is None:
        return [Cell("—"), Cell(None), Cell(None)]
    value = Cell(figure.percent if figure.percent is not None else "—", numeric=True)
    numerator = Cell(figure.numerator, href=stays and stays + "&population=numerator", numeric=True)
    denominator = Cell(
        figure.denominator, href=stays and stays + "&population=denominator", numeric=True
    )
    return [value, numerator, denominator]


def grids(page: IndicatorPage, t: Translator) -> dict[str, Grid]:
    """The page's tables (the export of each is the same Grid)."""
    base = {"period": page.period, "org": page.org}
    out: dict[str, Grid] = {}
    heads = [t("indicators.value"), t("indicators.numerator"), t("indicators.denominator")]
    overview = Grid(
        "overview",
        t("indicators.overview"),
        [t("indicators.id"), t("indicators.name"), *heads, t("indicators.published")],
    )
    for row in page.rows:
        stays = (
            "/console/indicators/stays" + _link(base, indicator=row.indicator.id)
            if page.org and row.figure
            else None
        )
        overview.add(
            Cell(row.indicator.id, href=_link(base, indicator=row.indicator.id)),
            _name(t, row.indicator),
            *_figure_cells(row.figure, stays),
            row.report_date or "",
        )
    out["overview"] = overview
    trend = Grid("trend", t("indicators.trend"), [t("indicators.period"), *heads])
    for period, figure in page.trend:
        trend.add(period, *_figure_cells(figure))
    out["trend"] = trend
    selected = {**base, "indicator": page.selected.id}
    if page.org is None:
        hospitals = Grid(
            "hospitals",
            t("indicators.hospitals"),
            [t("indicators.org_code"), t("indicators.hospital"), *heads],
        )
        for stratum in page.hospitals:
            stays = "/console/indicators/stays" + _link(selected, org=stratum.key)
            hospitals.add(
                Cell(stratum.key, href=_link(selected, org=stratum.key)),
                stratum.label,
                *_figure_cells(stratum.figure, stays),
            )
        out["hospitals"] = hospitals
    departments = Grid(
        "departments", t("indicators.departments"), [t("indicators.department"), *heads]
    )
    for stratum in page.departments:
        stays = "/console/indicators/stays" + _link(
            selected, org=stratum.org, department=stratum.key
        )
        departments.add(stratum.label, *_figure_cells(stratum.figure, stays))
    out["departments"] = departments
    months = Grid("months", t("indicators.months"), [t("indicators.month"), *heads])
    for stratum in page.months:
        stays = (
            "/console/indicators/stays" + _link(selected, month=stratum.key) if page.org else None
        )
        months.add(stratum.label, *_figure_cells(stratum.figure, stays))
    out["months"] = months
    return out


@router.get("")
async def indicators(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> Response:
    """The indicators of a period for the region or one hospital."""
    page, names = await _page(request, user, services, upstream)
    t = texts(request)
    jobs = [
        j
        for j in services.refresher.jobs()
        if user.user.role.value == "qc" or j.org == user.user.org_code
    ][:5]
    return render(
        request,
        "indicators.html",
        page=page,
        grids=grids(page, t),
        names=names,
        hospitals=sorted(names.items()) if user.user.role.value == "qc" else [],
        trend_chart=trend_option(page, t),
        hospitals_chart=hospitals_option(page, t) if page.org is None else None,
        indicator_name=_name(t, page.selected),
        indicator_names={
            i.id: _name(t, i) for i in catalog(services.settings).definitions.indicators.values()
        },
        jobs=jobs,
        running=any(j.state in ("queued", "running") for j in jobs),
        query=request.url.query,
        # The parent's benchmark beside our value, when this platform reports upward.
        benchmark=stored_benchmark(services.database, page.period, page.selected.id),
    )


@router.get("/export")
async def export(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> Response:
    """One of the page's tables as an Excel workbook."""
    page, _ = await _page(request, user, services, upstream)
    name = request.query_params.get("table", "overview")
    grid = pick(grids(page, texts(request)), name)
    audit_context(request).extra["export"] = name
    return _xlsx(grid, f"indicators-{page.period}-{page.scope_key}-{page.selected.id}-{name}.xlsx")


def _xlsx(grid: Grid, filename: str) -> Response:
    return attachment(to_xlsx(grid), filename)


async def _stays(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> StaysPage:
    params = request.query_params
    ctx = audit_context(request)
    ctx.interaction, ctx.resource_type = "search-type", "Encounter"
    org = visible_scope(user.user.role.value, user.user.org_code, params.get("org") or None)
    if org is None:
        raise InvalidInput(
            "choose a hospital to list its stays",
            issues=[Issue("org", "required", "drill-down lists one hospital's stays")],
        )
    definitions = catalog(services.settings).definitions
    indicator = params.get("indicator", "")
    population = params.get("population", "numerator")
    problems = []
    if indicator not in definitions.indicators:
        problems.append(Issue("indicator", "choice", ", ".join(definitions.indicators)))
    if population not in POPULATIONS:
        problems.append(Issue("population", "choice", ", ".join(POPULATIONS)))
    period = params.get("period", "")
    parse_period(period, definitions.rules.tz)
    if problems:
        raise InvalidInput("drill-down refused", issues=problems)
    department = params.get("department") or None
    if department and not department.startswith(f"{org}/"):
        raise InvalidInput(
            "the department belongs to another hospital",
            issues=[Issue("department", "scope", f"a department of {org}")],
        )
    ctx.extra["scope"] = org
    page = await load_stays(
        services.settings,
        upstream,
        request.app,
        role=user.user.role.value,
        period=period,
        org=org,
        indicator=indicator,
        population=population,
        department=department,
        month=params.get("month") or None,
    )
    for stay in page.stays[:50]:
        ctx.touch(stay.ref)
    return page


@router.get("/stays")
async def stays(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> Response:
    """The stays behind a number (one hospital's; pseudonymised for QC)."""
    page = await _stays(request, user, services, upstream)
    t = texts(request)
    names = await run_in_threadpool(_names, services.database)
    return render(
        request,
        "stays.html",
        page=page,
        grid=page.grid(t, services.settings),
        hospital=names.get(page.org, page.org),
        indicator_name=_name(t, catalog(services.settings).definitions.indicators[page.indicator]),
        query=request.url.query,
    )


@router.get("/stays/export")
async def stays_export(
    request: Request, user: QcOrHospital, services: Services, upstream: UpstreamDep
) -> Response:
    """The drill-down list as an Excel workbook."""
    page = await _stays(request, user, services, upstream)
    audit_context(request).extra["export"] = "stays"
    grid = page.grid(texts(request), services.settings)
    return _xlsx(grid, f"stays-{page.period}-{page.org}-{page.indicator}-{page.population}.xlsx")


@router.post("/recompute")
async def recompute(
    request: Request,
    user: QcOrHospital,
    services: Services,
    period: str = Form(...),
    org: str = Form(""),
) -> Response:
    """Queue a recomputation of a period (QC: the region and every hospital; a hospital: itself)."""
    scope = visible_scope(user.user.role.value, user.user.org_code, org or None)
    parse_period(period, catalog(services.settings).definitions.rules.tz)
    job = services.refresher.request(period.strip().upper(), scope, user.user.username)
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "operation", "E", "MeasureReport"
    ctx.extra["job"] = job.id
    return redirect("/console/indicators" + _link(period=job.period, org=scope, job=job.id))
