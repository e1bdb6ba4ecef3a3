"""HTTP API of research data sharing under ``/research`` (SMART Backend Services tokens).

Researchers (role ``researcher``) read the catalogue, submit requests, follow them, queue
extracts of their live grants and download the files; data stewards (role ``admin``) see every
request and decide, narrow, reject or revoke. Every call, refusals included, is one AuditEvent
(purpose HRESCH for researchers); a download's event names the extract, the file and its SHA-256.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from facade.api.deps import DatabaseDep, SettingsDep, UpstreamDep
from facade.audit.route import AuditedRoute, audit_context
from facade.errors import Forbidden
from facade.indicators.service import catalog
from facade.research import catalogue, jobs, lifecycle
from facade.research.lifecycle import Actor
from facade.research.models import DecisionIn, RequestIn, RevokeIn
from facade.security.deps import CurrentPrincipal
from facade.security.tokens import Principal

router = APIRouter(prefix="/research", route_class=AuditedRoute, tags=["research data sharing"])
_ROLES = (lifecycle.RESEARCHER, lifecycle.STEWARD)


def _actor(request: Request, principal: Principal, interaction: str, action: str) -> Actor:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = interaction, action, "ResearchRequest"
    if principal.role.value not in _ROLES:
        raise Forbidden(f"role {principal.role.value} has no access to research data sharing")
    return Actor(principal.client_id, principal.role.value)


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


@router.get("/catalogue", summary="Variables researchers can request, with the region's counts")
async def read_catalogue(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    upstream: UpstreamDep,
    period: str | None = Query(
        None, description="YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM: add counts per month."
    ),
) -> Response:
    """Every variable of the research views; with ``period``, resources per type and month."""
    _actor(request, principal, "search-type", "R")
    body: dict[str, Any] = {"variables": catalogue.variables(settings)}
    if period:
        tz = catalog(settings).definitions.rules.tz
        body["period"] = period
        body["minimumCell"] = settings.research_min_cell
        body["counts"] = await catalogue.counts(settings, upstream, period, tz)
    return _json(body)


@router.post("/requests", summary="Submit a data request", status_code=201)
async def submit(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    database: DatabaseDep,
    body: RequestIn,
) -> Response:
    """A researcher applies: project, purpose, ethics approval, period, cohort, variables."""
    actor = _actor(request, principal, "create", "C")
    lifecycle.check_request(
        body, catalog(settings).definitions, catalogue.known_variables(settings)
    )
    created = await run_in_threadpool(lifecycle.submit, database, actor, body)
    audit_context(request).extra["researchRequest"] = created["id"]
    return _json(created, 201)


@router.get("/requests", summary="Data requests (own; a steward sees all)")
async def list_requests(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    state: str | None = Query(None, description="Only requests in this state."),
) -> Response:
    """Newest first."""
    actor = _actor(request, principal, "search-type", "R")
    return _json({"requests": await run_in_threadpool(lifecycle.listing, database, actor, state)})


@router.get("/requests/{request_id}", summary="One data request with its history")
async def read_request(
    request: Request, principal: CurrentPrincipal, database: DatabaseDep, request_id: str
) -> Response:
    """States and transitions, as both sides see them."""
    actor = _actor(request, principal, "read", "R")
    audit_context(request).extra["researchRequest"] = request_id
    return _json(await run_in_threadpool(lifecycle.read, database, actor, request_id))


@router.post("/requests/{request_id}/$decide", summary="Approve, narrow or reject (steward)")
async def decide(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    database: DatabaseDep,
    request_id: str,
    body: DecisionIn,
) -> Response:
    """The steward's decision with its reason; an approval is a grant with an expiry."""
    actor = _actor(request, principal, "operation", "U")
    audit_context(request).extra["researchRequest"] = request_id
    audit_context(request).extra["decision"] = body.decision.value
    definitions = catalog(settings).definitions
    decided = await run_in_threadpool(
        lifecycle.decide, database, settings, definitions, actor, request_id, body
    )
    return _json(decided)


@router.post("/requests/{request_id}/$revoke", summary="Revoke a grant (steward)")
async def revoke(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    request_id: str,
    body: RevokeIn,
) -> Response:
    """Downloads and extraction stop at once."""
    actor = _actor(request, principal, "operation", "U")
    audit_context(request).extra["researchRequest"] = request_id
    revoked = await run_in_threadpool(lifecycle.revoke, database, actor, request_id, body.reason)
    await run_in_threadpool(jobs.purge, database)  # the files go with the grant
    return _json(revoked)


@router.post(
    "/requests/{request_id}/extracts",
    summary="Queue an extraction of a live grant",
    status_code=202,
)
async def queue_extract(
    request: Request, principal: CurrentPrincipal, database: DatabaseDep, request_id: str
) -> Response:
    """The worker runs it in the background; poll the extract for progress."""
    actor = _actor(request, principal, "operation", "E")
    audit_context(request).extra["researchRequest"] = request_id
    return _json(await run_in_threadpool(jobs.queue, database, actor, request_id), 202)


@router.get("/requests/{request_id}/extracts", summary="Extracts of a request")
async def list_extracts(
    request: Request, principal: CurrentPrincipal, database: DatabaseDep, request_id: str
) -> Response:
    """Oldest first."""
    actor = _actor(request, principal, "search-type", "R")
    return _json({"extracts": await run_in_threadpool(jobs.listing, database, actor, request_id)})


@router.get("/extracts/{extract_id}", summary="An extract's progress and manifest")
async def read_extract(
    request: Request, principal: CurrentPrincipal, database: DatabaseDep, extract_id: str
) -> Response:
    """State, stage, percent; when done, the files and the manifest."""
    actor = _actor(request, principal, "read", "R")
    audit_context(request).extra["researchExtract"] = extract_id
    return _json(await run_in_threadpool(jobs.read, database, actor, extract_id))


@router.get("/extracts/{extract_id}/files/{name:path}", summary="Download one file of an extract")
async def download(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    extract_id: str,
    name: str,
) -> Response:
    """Only the researcher of a live grant; every download is audited."""
    actor = _actor(request, principal, "read", "R")
    ctx = audit_context(request)
    ctx.extra["researchExtract"] = extract_id
    ctx.extra["file"] = name[:200]
    path, entry = await run_in_threadpool(jobs.download, database, actor, extract_id, name)
    if entry.get("sha256"):
        ctx.extra["sha256"] = str(entry["sha256"])
    media = {
        ".ndjson": "application/fhir+ndjson",
        ".csv": "text/csv",
        ".parquet": "application/vnd.apache.parquet",
        ".json": "application/json",
    }.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, filename=path.name)
