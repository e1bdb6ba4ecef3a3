"""Submissions: per hospital the last upload, batches and records by day, receipts, failures, backlog."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.audit.route import audit_context
from facade.console.deps import Operators, Services
from facade.console.grid import Cell, Grid, pick, to_xlsx
from facade.console.i18n import Translator
from facade.console.route import ConsoleRoute
from facade.console.web import attachment, render, texts
from facade.errors import InvalidInput, Issue, NotFound
from facade.excel.imports import ERROR_WORKBOOK_MEDIA_TYPE
from facade.submissions.service import Submissions, parse_status, visible_org

router = APIRouter(prefix="/console/submissions", route_class=ConsoleRoute, include_in_schema=False)
_DAYS = (7, 30, 90)


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "30")
    if not raw.isdigit() or int(raw) not in _DAYS:
        raise InvalidInput("days refused", issues=[Issue("days", "choice", "7, 30 or 90")])
    return int(raw)


def _scope(request: Request, user: Operators) -> str | None:
    audit_context(request).interaction = "search-type"
    org = visible_org(
        user.user.role.value, user.user.org_code, request.query_params.get("org") or None
    )
    ctx = audit_context(request)
    ctx.interaction, ctx.resource_type = "search-type", "submissions"
    if org:
        ctx.extra["scope"] = org
    return org


def _overview(service: Submissions, org: str | None, days: int) -> dict[str, Any]:
    return {
        "hospitals": service.hospitals(org, days=days),
        "daily": service.daily(org, days=days),
        "reasons": service.failure_reasons(org, days=days),
        "batches": service.batches(org, limit=20),
        "imports": service.imports(org, limit=20),
        "backlog": service.backlog() if org is None else None,
    }


def overview_grids(
    data: dict[str, Any], t: Translator, tz: Any, org: str | None
) -> dict[str, Grid]:
    """The page's tables."""
    hospitals = Grid(
        "hospitals",
        t("submissions.hospitals"),
        [
            t("indicators.org_code"),
            t("indicators.hospital"),
            t("submissions.last_upload"),
            t("submissions.last_import"),
            t("submissions.batches"),
            t("submissions.records"),
            t("submissions.refused"),
            t("submissions.accepted"),
            t("submissions.stored"),
            t("submissions.failed"),
        ],
    )
    for row in data["hospitals"]:
        r = row["receipts"]
        failed = Cell(
            r["failed"],
            href="/console/submissions/records?"
            + urlencode({"org": row["orgCode"], "status": "failed"}),
            numeric=True,
        )
        hospitals.add(
            Cell(row["orgCode"], href="?" + urlencode({"org": row["orgCode"]})),
            row["name"],
            (row["lastUpload"] or "")[:16].replace("T", " "),
            (row["lastImport"] or "")[:16].replace("T", " "),
            row["batches"],
            row["records"],
            row["refused"],
            r["accepted"],
            r["stored"],
            failed,
        )
    daily = Grid(
        "daily",
        t("submissions.daily"),
        [
            t("submissions.day"),
            t("submissions.batches"),
            t("submissions.records"),
            t("submissions.refused"),
        ],
    )
    for row in data["daily"]:
        daily.add(row["day"], row["batches"], row["records"], row["refused"])
    reasons = Grid(
        "reasons",
        t("submissions.reasons"),
        [
            t("submissions.stage"),
            t("submissions.code"),
            t("submissions.reason"),
            t("submissions.count"),
        ],
    )
    for row in data["reasons"]:
        reasons.add(
            t(f"submissions.stage_{row['stage']}"), row["code"] or "", row["reason"], row["count"]
        )
    batches = Grid(
        "batches",
        t("submissions.recent_batches"),
        [
            "batchNo",
            "appId",
            "orgCode",
            "serviceCode",
            t("submissions.source"),
            t("submissions.received"),
            t("submissions.records"),
            t("submissions.refused"),
            t("submissions.accepted"),
            t("submissions.stored"),
            t("submissions.failed"),
        ],
    )
    for b in data["batches"]:
        d = b.as_dict(tz)
        batches.add(
            Cell(
                d["batchNo"],
                href="/console/submissions/records?"
                + urlencode({"org": d["orgCode"], "batch": d["batchNo"]}),
            ),
            d["appId"],
            d["orgCode"],
            d["serviceCode"],
            d["source"],
            d["receivedAt"][:16].replace("T", " "),
            d["total"],
            d["failCount"],
            d["storage"]["accepted"],
            d["storage"]["stored"],
            d["storage"]["failed"],
        )
    imports = Grid(
        "imports",
        t("submissions.imports"),
        [
            "importId",
            "appId",
            "orgCode",
            t("submissions.imported"),
            t("submissions.status"),
            t("submissions.records"),
            t("submissions.failed"),
            t("submissions.errors"),
            t("submissions.error_workbook"),
        ],
    )
    for i in data["imports"]:
        d = i.as_dict(tz)
        book = d["errorWorkbook"]
        imports.add(
            d["importId"],
            d["appId"],
            d["orgCode"],
            d["importedAt"][:16].replace("T", " "),
            d["status"],
            d["total"],
            d["failCount"],
            d["errorCount"],
            Cell(
                t("submissions.download"),
                href=f"/console/submissions/imports/{d['importId']}/errors",
            )
            if book
            else "—",
        )
    return {g.name: g for g in (hospitals, daily, reasons, batches, imports)}


def daily_option(daily: list[dict[str, Any]], t: Translator) -> dict[str, Any]:
    """Records per day (accepted and refused, stacked) and batches per day."""
    return {
        "animation": False,
        "color": ["#2f6fb0", "#c0392b", "#7f8c8d"],
        "grid": {"left": 48, "right": 48, "top": 36, "bottom": 32},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [d["day"][5:] for d in daily]},
        "yAxis": [
            {"type": "value", "name": t("submissions.records")},
            {"type": "value", "name": t("submissions.batches")},
        ],
        "series": [
            {
                "id": "accepted",
                "name": t("submissions.accepted_records"),
                "type": "bar",
                "stack": "r",
                "data": [d["records"] - d["refused"] for d in daily],
            },
            {
                "id": "refused",
                "name": t("submissions.refused"),
                "type": "bar",
                "stack": "r",
                "data": [d["refused"] for d in daily],
            },
            {
                "id": "batches",
                "name": t("submissions.batches"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [d["batches"] for d in daily],
            },
        ],
    }


@router.get("")
async def submissions(request: Request, user: Operators, services: Services) -> Response:
    """What each visible hospital sent in the window and what became of it."""
    org = _scope(request, user)
    days = _days(request)
    data = await run_in_threadpool(_overview, services.submissions, org, days)
    t = texts(request)
    names = {row["orgCode"]: row["name"] for row in data["hospitals"]}
    return render(
        request,
        "submissions.html",
        org=org,
        days=days,
        choices=_DAYS,
        grids=overview_grids(data, t, services.submissions.tz, org),
        daily_chart=daily_option(data["daily"], t),
        backlog=data["backlog"],
        hospital=names.get(org or "", org),
        may_choose=user.user.role.value != "hospital",
        query=request.url.query,
    )


def _records_grid(
    service: Submissions,
    org: str | None,
    status: str | None,
    batch: str | None,
    limit: int,
    t: Translator,
) -> Grid:
    rows = service.records(org, status=parse_status(status), batch_no=batch, limit=limit)
    grid = Grid(
        "records",
        t("submissions.records_title"),
        [
            "recordId",
            t("submissions.version"),
            "receiptId",
            "batchNo",
            "orgCode",
            "serviceCode",
            t("submissions.status"),
            t("submissions.stage"),
            t("submissions.received"),
            t("submissions.stored_at"),
            t("submissions.reason"),
        ],
    )
    for row in rows:
        d = row.as_dict(service.tz)
        grid.add(
            d["recordId"],
            d["recordVersion"] or "",
            d["receiptId"] or "",
            d["batchNo"],
            d["orgCode"],
            d["serviceCode"],
            d["status"],
            t(f"submissions.stage_{d['stage']}"),
            d["receivedAt"][:16].replace("T", " "),
            (d["storedAt"] or "")[:16].replace("T", " "),
            " ".join(p for p in (d["code"], d["reason"]) if p),
        )
    return grid


@router.get("/records")
async def records(request: Request, user: Operators, services: Services) -> Response:
    """Records filtered by status or batch (every FAILED record with its reason)."""
    org = _scope(request, user)
    params = request.query_params
    status, batch = params.get("status") or None, params.get("batch") or None
    t = texts(request)
    grid = await run_in_threadpool(
        _records_grid,
        services.submissions,
        org,
        status,
        batch,
        services.settings.console_max_rows,
        t,
    )
    return render(
        request,
        "records.html",
        org=org,
        chosen=(status or "").lower(),
        batch=batch or "",
        grid=grid,
        query=request.url.query,
        may_choose=user.user.role.value != "hospital",
    )


@router.get("/export")
async def export(request: Request, user: Operators, services: Services) -> Response:
    """A table of the page as an Excel workbook."""
    org = _scope(request, user)
    name = request.query_params.get("table", "hospitals")
    t = texts(request)
    if name == "records":
        params = request.query_params
        grid = await run_in_threadpool(
            _records_grid,
            services.submissions,
            org,
            params.get("status") or None,
            params.get("batch") or None,
            services.settings.console_max_rows,
            t,
        )
    else:
        data = await run_in_threadpool(_overview, services.submissions, org, _days(request))
        grid = pick(overview_grids(data, t, services.submissions.tz, org), name)
    audit_context(request).extra["export"] = name
    return attachment(to_xlsx(grid), f"submissions-{org or 'region'}-{name}.xlsx")


@router.get("/imports/{import_id}/errors")
async def error_workbook(
    import_id: str, request: Request, user: Operators, services: Services
) -> Response:
    """A past import's error workbook (another hospital's import is 'not found')."""
    ctx = audit_context(request)
    ctx.interaction, ctx.resource_type = "read", "excel-import"
    ctx.touch(f"excel-import/{import_id}")
    owner = await run_in_threadpool(services.submissions.import_org, import_id)
    scope = visible_org(user.user.role.value, user.user.org_code, None)
    if owner is None or (scope is not None and owner != scope):
        raise NotFound("没有这个导入编号")
    data = await run_in_threadpool(services.submissions.error_workbook, import_id, owner)
    return attachment(data, f"errors-{import_id}.xlsx", ERROR_WORKBOOK_MEDIA_TYPE)
