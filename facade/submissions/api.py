"""JSON API of the submissions views, for API clients (SMART Backend Services tokens).

``qc`` and ``admin`` see every institution (or the one named by ``org``); a ``hospital`` sees
only itself and asking for another is 403. Every request is audited like a FHIR request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from facade.api.deps import SubmissionsDep
from facade.audit.route import AuditedRoute, audit_context
from facade.excel.imports import ERROR_WORKBOOK_MEDIA_TYPE, WORKBOOK_RESPONSES
from facade.security.deps import CurrentPrincipal
from facade.submissions.service import parse_status, visible_org

router = APIRouter(prefix="/submissions", route_class=AuditedRoute, tags=["submissions"])

OrgQuery = Query(None, description="Institution code; omit for every institution (qc, admin).")
LimitQuery = Query(100, ge=1, le=10_000, description="At most this many rows, newest first.")


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _audit(request: Request, what: str) -> None:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "search-type", "R", what


@router.get("/hospitals", summary="Per institution: last upload, batches, receipts, backlog")
async def hospitals(
    request: Request,
    principal: CurrentPrincipal,
    queries: SubmissionsDep,
    org: str | None = OrgQuery,
    days: int = Query(30, ge=1, le=3660),
) -> Response:
    """Activity of each visible institution over the last ``days`` days."""
    _audit(request, "submissions")
    scope = visible_org(principal.role.value, principal.org_code, org)
    rows = await run_in_threadpool(queries.hospitals, scope, days=days)
    return _json(
        {"hospitals": rows, "daily": await run_in_threadpool(queries.daily, scope, days=days)}
    )


@router.get("/batches", summary="Upload batches with their records' storage states")
async def batches(
    request: Request,
    principal: CurrentPrincipal,
    queries: SubmissionsDep,
    org: str | None = OrgQuery,
    days: int | None = Query(None, ge=1, le=3660),
    service: str | None = Query(None, description="serviceCode, e.g. VTE.CASE.UPLOAD"),
    limit: int = LimitQuery,
) -> Response:
    """Batches, newest first."""
    _audit(request, "batches")
    scope = visible_org(principal.role.value, principal.org_code, org)
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    found = await run_in_threadpool(
        lambda: queries.batches(scope, since=since, service=service, limit=limit)
    )
    return _json({"batches": [b.as_dict(queries.tz) for b in found]})


@router.get("/receipts", summary="Records and their receipts, filtered by status")
async def receipts(
    request: Request,
    principal: CurrentPrincipal,
    queries: SubmissionsDep,
    org: str | None = OrgQuery,
    status: str | None = Query(None, description="accepted, stored or failed"),
    batch: str | None = Query(None, description="batchNo"),
    limit: int = LimitQuery,
) -> Response:
    """Records, newest first; ``status=failed`` lists every failed record with its reason."""
    _audit(request, "receipts")
    scope = visible_org(principal.role.value, principal.org_code, org)
    wanted = parse_status(status)
    found = await run_in_threadpool(
        lambda: queries.records(scope, status=wanted, batch_no=batch, limit=limit)
    )
    return _json({"records": [r.as_dict(queries.tz) for r in found]})


@router.get("/imports", summary="Excel imports")
async def imports(
    request: Request,
    principal: CurrentPrincipal,
    queries: SubmissionsDep,
    org: str | None = OrgQuery,
    limit: int = LimitQuery,
) -> Response:
    """Imports, newest first, with the error workbook's path while it lasts."""
    _audit(request, "imports")
    scope = visible_org(principal.role.value, principal.org_code, org)
    found = await run_in_threadpool(lambda: queries.imports(scope, limit=limit))
    return _json({"imports": [i.as_dict(queries.tz) for i in found]})


@router.get(
    "/imports/{import_id}/errors",
    summary="A past import's error workbook",
    response_class=Response,
    responses=WORKBOOK_RESPONSES,
)
async def import_errors(
    import_id: str,
    request: Request,
    principal: CurrentPrincipal,
    queries: SubmissionsDep,
) -> Response:
    """The error workbook (.xlsx) while it has not expired; 404 for another hospital's import."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = "read", "R", "excel-import"
    owner = await run_in_threadpool(queries.import_org, import_id)
    scope = visible_org(principal.role.value, principal.org_code, None)
    if owner is None or (scope is not None and owner != scope):
        owner = scope or ""  # another institution's import is "not found", not "forbidden"
    data = await run_in_threadpool(queries.error_workbook, import_id, owner or "")
    return Response(
        data,
        media_type=ERROR_WORKBOOK_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="errors-{import_id}.xlsx"'},
    )
