"""Extraction jobs: queued in the database, run by a worker with progress, downloaded by their
researcher only while the grant lives.

A job is leased while it runs (``lease_until``), so a worker that died leaves a job another
worker picks up again; a fresh run starts from scratch (nothing of a ``.partial`` directory is
ever served).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import or_, select, update

from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.db import Database
from facade.errors import FacadeError, Forbidden, NotFound
from facade.frontdoor.context import FrontDoor
from facade.research import extract, lifecycle
from facade.research.lifecycle import Actor
from facade.research.tables import ResearchExtract, ResearchRequest
from facade.settings import Settings
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.research")
LEASE = timedelta(minutes=10)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def _now() -> datetime:
    return datetime.now(UTC)


def queue(database: Database, actor: Actor, request_id: str) -> dict[str, Any]:
    """Queue an extraction of a live grant (its researcher or a steward may ask)."""
    lifecycle.live_grant(database, actor, request_id)
    row = ResearchExtract(
        id=str(uuid.uuid4()),
        request_id=request_id,
        requested_by=actor.id,
        state=QUEUED,
        stage="queued",
        progress=0,
        created_at=_now(),
    )
    with database.session() as session:
        session.add(row)
    return view(row)


def read(database: Database, actor: Actor, extract_id: str) -> dict[str, Any]:
    """An extract's state and (when done) its manifest, for its researcher or a steward."""
    row, _ = _visible(database, actor, extract_id)
    return view(row, manifest=True)


def listing(database: Database, actor: Actor, request_id: str) -> list[dict[str, Any]]:
    """The extracts of a request."""
    lifecycle.read(database, actor, request_id)
    with database.session() as session:
        rows = session.scalars(
            select(ResearchExtract)
            .where(ResearchExtract.request_id == request_id)
            .order_by(ResearchExtract.created_at)
        )
        return [view(r) for r in rows]


def view(row: ResearchExtract, *, manifest: bool = False) -> dict[str, Any]:
    """JSON form of an extract."""
    out: dict[str, Any] = {
        "id": row.id,
        "request": row.request_id,
        "state": row.state,
        "stage": row.stage,
        "progress": row.progress,
        "createdAt": row.created_at.isoformat() if row.created_at else None,
    }
    if row.error:
        out["error"] = row.error
    if row.finished_at:
        out["finishedAt"] = row.finished_at.isoformat()
    if row.manifest:
        files = orjson.loads(row.manifest)["files"]
        out["files"] = [{k: f[k] for k in ("path", "bytes", "sha256", "rows")} for f in files]
        if manifest:
            out["manifest"] = orjson.loads(row.manifest)
    return out


def download(
    database: Database, actor: Actor, extract_id: str, name: str
) -> tuple[Path, dict[str, Any]]:
    """The file ``name`` of a finished extract for the researcher it was made for, while the grant
    lives; Forbidden when rejected, revoked or expired; NotFound for anyone else's extract."""
    row, request = _visible(database, actor, extract_id)
    if request.researcher != actor.id:
        raise Forbidden("only the researcher a grant was made for downloads its extract")
    lifecycle.live_grant(database, actor, row.request_id)
    if row.state != DONE or not row.directory or not row.manifest:  # files purged: gone
        raise NotFound(f"extract {extract_id} has no files yet ({row.state})")
    manifest = orjson.loads(row.manifest)
    files: list[dict[str, Any]] = manifest["files"]
    entry: dict[str, Any] | None = next((f for f in files if f["path"] == name), None)
    if name == "manifest.json":
        entry = {"path": name, "rows": None}
    if entry is None:
        raise NotFound(f"extract {extract_id} has no file {name}")
    root = Path(row.directory).resolve()
    path = (root / str(entry["path"])).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"extract {extract_id} has no file {name}")
    return path, entry


def _visible(
    database: Database, actor: Actor, extract_id: str
) -> tuple[ResearchExtract, ResearchRequest]:
    with database.session() as session:
        row = session.get(ResearchExtract, extract_id)
        request = session.get(ResearchRequest, row.request_id) if row else None
    if row is None or request is None or not (actor.steward or request.researcher == actor.id):
        raise NotFound(f"no extract {extract_id}")
    return row, request


# -- running


def claim(database: Database) -> ResearchExtract | None:
    """Lease the oldest queued job (or one whose worker's lease ran out)."""
    now = _now()
    with database.session() as session:
        candidate = session.scalars(
            select(ResearchExtract)
            .where(
                or_(
                    ResearchExtract.state == QUEUED,
                    (ResearchExtract.state == RUNNING) & (ResearchExtract.lease_until < now),
                )
            )
            .order_by(ResearchExtract.created_at)
            .limit(1)
        ).first()
        if candidate is None:
            return None
        claimed = session.execute(  # type: ignore[attr-defined]
            update(ResearchExtract)
            .where(ResearchExtract.id == candidate.id, ResearchExtract.state == candidate.state)
            .values(
                state=RUNNING, lease_until=now + LEASE, started_at=now, stage="starting", progress=0
            )
        ).rowcount
        if claimed != 1:
            return None
        candidate.state = RUNNING
        return candidate


async def execute(
    settings: Settings,
    database: Database,
    upstream: UpstreamClient,
    door: FrontDoor,
    job: ResearchExtract,
) -> dict[str, Any]:
    """Run one claimed job to done or failed; returns its final view."""

    async def progress(stage: str, percent: int) -> None:
        with database.session() as session:
            session.execute(
                update(ResearchExtract)
                .where(ResearchExtract.id == job.id)
                .values(stage=stage[:64], progress=percent, lease_until=_now() + LEASE)
            )

    context = extract.ExtractJob(
        settings, database, upstream, door, job.id, job.request_id, progress
    )
    try:
        manifest = await extract.run(context)
    except FacadeError as exc:
        log.warning("extract %s failed: %s", job.id, exc.message)
        _finish(database, job.id, FAILED, error=exc.message[:2000])
    except Exception as exc:
        log.exception("extract %s crashed", job.id)
        _finish(database, job.id, FAILED, error=f"internal error ({type(exc).__name__})")
    else:
        _finish(
            database,
            job.id,
            DONE,
            directory=str(settings.research_extract_dir / job.id),
            manifest=orjson.dumps(manifest).decode(),
        )
    with database.session() as session:
        row = session.get(ResearchExtract, job.id)
        request = session.get(ResearchRequest, job.request_id)
        assert row is not None and request is not None  # noqa: S101 - the job's own rows
    _audit_run(settings, database, row, request)
    return view(row)


def _audit_run(
    settings: Settings, database: Database, row: ResearchExtract, request: ResearchRequest
) -> None:
    """One AuditEvent per extraction run: the Bulk export and the disclosure it prepares."""
    ctx = AuditContext(door="fhir", method="JOB", path=f"/research/extracts/{row.id}")
    ctx.client_id, ctx.role, ctx.authenticated = request.researcher, lifecycle.RESEARCHER, True
    ctx.interaction, ctx.action, ctx.resource_type = "operation", "E", "Bundle"
    ctx.detail = f"research extract {row.state}" + (f": {row.error[:120]}" if row.error else "")
    ctx.extra.update({"researchRequest": request.id, "researchExtract": row.id})
    if row.manifest:
        manifest = orjson.loads(row.manifest)
        ctx.extra["staysReleased"] = str(manifest["cohort"]["staysReleased"])
    AuditLog(settings, database).record(ctx, 200 if row.state == DONE else 500)


def purge(database: Database) -> int:
    """Delete the files of every extract whose grant is no longer live (revoked, expired);
    returns how many directories were removed. The rows stay, as the record of what was made."""
    removed = 0
    with database.session() as session:
        rows = list(
            session.execute(
                select(
                    ResearchExtract.id, ResearchExtract.directory, ResearchExtract.request_id
                ).where(ResearchExtract.directory.is_not(None))
            )
        )
    for extract_id, directory, request_id in rows:
        try:
            lifecycle.live_grant(database, None, request_id)
            continue
        except Forbidden:
            pass
        shutil.rmtree(str(directory), ignore_errors=True)
        with database.session() as session:
            session.execute(
                update(ResearchExtract)
                .where(ResearchExtract.id == extract_id)
                .values(directory=None, stage="files deleted: grant no longer live")
            )
        removed += 1
    return removed


def _finish(database: Database, extract_id: str, state: str, **values: Any) -> None:
    if state == DONE:
        values["progress"] = 100  # a failed job keeps the percent it reached
    with database.session() as session:
        session.execute(
            update(ResearchExtract)
            .where(ResearchExtract.id == extract_id)
            .values(state=state, finished_at=_now(), lease_until=None, **values)
        )


async def drain(
    settings: Settings, database: Database, upstream: UpstreamClient, door: FrontDoor
) -> int:
    """Run every queued job; returns how many ran."""
    ran = 0
    while (job := claim(database)) is not None:
        await execute(settings, database, upstream, door, job)
        ran += 1
    return ran


async def run_forever(
    settings: Settings,
    database: Database,
    upstream: UpstreamClient,
    door: FrontDoor,
    stop: asyncio.Event,
) -> None:
    """Run queued extractions and purge expired extracts until ``stop`` is set."""
    while not stop.is_set():
        try:
            await drain(settings, database, upstream, door)
            await asyncio.to_thread(purge, database)
        except Exception:
            log.exception("research worker pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.research_worker_idle_seconds)
