"""AuditLog: record an AuditEvent in the facade database within the request, forward it to HAPI later.

Durability: ``record`` commits the event to the ``audit_record`` outbox before the response
leaves; a background loop (``run``) PUTs pending events into HAPI as ``AuditEvent/<id>`` in
batch Bundles, retrying with back-off while HAPI is down, so an event is delayed, never lost.
Tests call ``flush`` to forward everything deterministically.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update

from facade.audit.events import AuditContext, audit_event
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import UpstreamError
from facade.native.audit import NativeAuditEvent
from facade.native.codes import http_status
from facade.settings import Settings
from facade.upstream import UpstreamClient

log = logging.getLogger(__name__)

_LEASE = timedelta(seconds=60)
_MAX_BACKOFF_SECONDS = 300


@dataclass(frozen=True)
class FlushResult:
    """What one flush did."""

    forwarded: int
    failed: int


class AuditLog:
    """The audit trail of one facade instance."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.base_url = settings.public_base_url + "/fhir"

    # -- recording (synchronous: call from a worker thread inside async code)

    def record(self, ctx: AuditContext, status: int) -> str:
        """Store the AuditEvent of a finished request; returns its id. Commits before returning."""
        event_id = str(uuid.uuid4())
        now = utcnow()
        body = audit_event(
            ctx, event_id=event_id, recorded=now, status=status, base_url=self.base_url
        )
        row = AuditRecord(
            id=event_id,
            recorded_at=now,
            door=ctx.door,
            interaction=ctx.interaction[:64],
            client_id=ctx.client_id,
            org_code=ctx.org_code,
            outcome=body["outcome"],
            body=orjson.dumps(body).decode(),
            attempts=0,
            next_attempt_at=now,
        )
        with self.database.session() as session:
            session.add(row)
        return event_id

    def record_native(
        self,
        *,
        app_id: str | None,
        org_code: str | None,
        service_code: str | None,
        outcome_code: str,
        batch_no: str | None = None,
        counts: Mapping[str, int] | None = None,
        remote_addr: str | None = None,
        request_id: str | None = None,
        app_name: str | None = None,
        authenticated: bool | None = None,
        entities: Sequence[str] = (),
        message: str | None = None,
        path: str = "/vte-x/v1/gateway",
    ) -> str:
        """The native gateway's hook: one call per gateway request, refused ones included.

        ``outcome_code`` is the VTE-X reply code ("0" = success); ``counts`` e.g.
        ``{"accepted": 3, "rejected": 1}``; ``entities`` are "Type/id" of stored resources.
        ``authenticated`` defaults to "the signature was good" (codes other than 1xxx).
        """
        status = http_status(outcome_code)  # the one VTE-X code -> HTTP status table
        ctx = AuditContext(
            door="native",
            method="POST",
            path=path,
            interaction=service_code or "unknown",
            action="C",
            client_id=app_id,
            client_name=app_name,
            role="hospital",
            org_code=org_code if org_code and len(org_code) <= 18 else None,
            authenticated=authenticated
            if authenticated is not None
            else not outcome_code.startswith("1"),
            remote_addr=remote_addr,
            request_id=request_id,
            detail=f"VTE-X {outcome_code}" + (f": {message}" if message else ""),
        )
        for reference in entities:
            ctx.touch(reference)
        if batch_no:
            ctx.extra["batchNo"] = batch_no
        if counts:
            ctx.extra["counts"] = ",".join(f"{k}={v}" for k, v in counts.items())
        if request_id:
            ctx.extra["requestId"] = request_id
        return self.record(ctx, status)

    def native_hook(self, event: NativeAuditEvent) -> None:
        """The gateway's audit hook (wired in facade.services): once per request, in a worker thread."""
        counts = None
        if event.total or event.success_count or event.fail_count:
            counts = {
                "total": event.total,
                "success": event.success_count,
                "fail": event.fail_count,
            }
        self.record_native(
            app_id=event.app_id or None,
            org_code=event.org_code or None,
            service_code=event.service_code or None,
            outcome_code=event.code,
            batch_no=event.batch_no or None,
            counts=counts,
            remote_addr=event.source_ip or None,
            request_id=event.request_id or None,
            authenticated=event.signature_verified,
        )

    # -- forwarding

    def _claim(self, owner: str, *, due_only: bool) -> list[AuditRecord]:
        now = utcnow()
        with self.database.session() as session:
            candidates = select(AuditRecord.id).where(AuditRecord.forwarded_at.is_(None))
            if due_only:
                candidates = candidates.where(AuditRecord.next_attempt_at <= now)
            free = (AuditRecord.lease_until.is_(None)) | (AuditRecord.lease_until < now)
            ids = (
                candidates.where(free)
                .order_by(AuditRecord.recorded_at)
                .limit(self.settings.audit_forward_batch_size)
            )
            # The lease condition is repeated in the UPDATE so a concurrent claimer loses cleanly.
            session.execute(
                update(AuditRecord)
                .where(AuditRecord.id.in_(ids.scalar_subquery()), free)
                .values(lease_owner=owner, lease_until=now + _LEASE)
                .execution_options(synchronize_session=False)
            )
        with self.database.session() as session:
            rows = session.scalars(
                select(AuditRecord).where(
                    AuditRecord.lease_owner == owner, AuditRecord.forwarded_at.is_(None)
                )
            )
            return list(rows)

    def _claimed_elsewhere(self) -> bool:
        """Whether unforwarded rows are under another worker's live lease."""
        with self.database.session() as session:
            count = session.scalar(
                select(func.count()).where(
                    AuditRecord.forwarded_at.is_(None), AuditRecord.lease_until > utcnow()
                )
            )
        return bool(count)

    def _settle(self, owner: str, done: list[str], failed: dict[str, str]) -> None:
        now = utcnow()
        with self.database.session() as session:
            if done:
                session.execute(
                    update(AuditRecord)
                    .where(AuditRecord.id.in_(done))
                    .values(forwarded_at=now, lease_owner=None, lease_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
            for event_id, error in failed.items():
                row = session.get(AuditRecord, event_id)
                if row is None or row.lease_owner != owner:
                    continue
                row.attempts += 1
                row.next_attempt_at = now + timedelta(
                    seconds=min(2**row.attempts, _MAX_BACKOFF_SECONDS)
                )
                row.last_error = error[:500]
                row.lease_owner = None
                row.lease_until = None

    async def _forward(
        self, upstream: UpstreamClient, rows: list[AuditRecord]
    ) -> tuple[list[str], dict[str, str]]:
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [
                {
                    "resource": orjson.loads(row.body),
                    "request": {"method": "PUT", "url": f"AuditEvent/{row.id}"},
                }
                for row in rows
            ],
        }
        try:
            answer = await upstream.transaction(bundle)
        except UpstreamError as exc:
            return [], {row.id: exc.message for row in rows}
        done: list[str] = []
        failed: dict[str, str] = {}
        entries = answer.get("entry", [])
        for row, entry in zip(rows, entries, strict=False):
            status = str((entry.get("response") or {}).get("status", ""))
            if status[:1] == "2":
                done.append(row.id)
            else:
                failed[row.id] = f"HAPI answered {status}: {_outcome_text(entry)}"
        for row in rows[len(entries) :]:
            failed[row.id] = "no response entry from HAPI"
        return done, failed

    async def flush(self, upstream: UpstreamClient, *, due_only: bool = False) -> FlushResult:
        """Forward pending events until none is left (or HAPI fails); returns the tally.

        ``due_only`` respects back-off after failures (the background loop); tests and the
        ``audit flush`` command forward everything pending, and also wait for rows another
        worker has claimed, so that on return every event recorded before the call is in HAPI
        (unless HAPI failed).
        """
        owner = secrets.token_hex(8)
        forwarded = failed = 0
        while True:
            rows = await asyncio.to_thread(self._claim, owner, due_only=due_only)
            if not rows:
                if due_only or not await asyncio.to_thread(self._claimed_elsewhere):
                    break
                await asyncio.sleep(0.05)
                continue
            done, errors = await self._forward(upstream, rows)
            await asyncio.to_thread(self._settle, owner, done, errors)
            forwarded += len(done)
            failed += len(errors)
            if errors:
                log.warning(
                    "audit events not forwarded yet: %d (%s)",
                    len(errors),
                    next(iter(errors.values())),
                )
                break
        return FlushResult(forwarded, failed)

    async def run(self, upstream: UpstreamClient, stop: asyncio.Event) -> None:
        """Forward every ``audit_forward_interval_seconds`` until ``stop`` is set (the app lifespan runs this)."""
        while not stop.is_set():
            try:
                await self.flush(upstream, due_only=True)
            except Exception:  # the loop must survive a database hiccup; the next round retries
                log.exception("audit forwarding round failed")
            try:
                await asyncio.wait_for(
                    stop.wait(), timeout=self.settings.audit_forward_interval_seconds
                )
            except TimeoutError:
                pass

    # -- inspection and retention

    def status(self) -> dict[str, Any]:
        """Counts for operators: pending, forwarded, failing, oldest pending time."""
        with self.database.session() as session:
            pending = (
                session.scalar(select(func.count()).where(AuditRecord.forwarded_at.is_(None))) or 0
            )
            forwarded = (
                session.scalar(select(func.count()).where(AuditRecord.forwarded_at.is_not(None)))
                or 0
            )
            failing = (
                session.scalar(
                    select(func.count()).where(
                        AuditRecord.forwarded_at.is_(None), AuditRecord.attempts > 0
                    )
                )
                or 0
            )
            oldest = session.scalar(
                select(func.min(AuditRecord.recorded_at)).where(AuditRecord.forwarded_at.is_(None))
            )
        return {
            "pending": pending,
            "forwarded": forwarded,
            "failing": failing,
            "oldest_pending": oldest.isoformat() if oldest else None,
        }

    def cutoff(self, days: int | None = None) -> datetime:
        """The instant before which events are past retention."""
        return utcnow() - timedelta(
            days=days if days is not None else self.settings.audit_retention_days
        )

    def purge_local(self, cutoff: datetime) -> dict[str, int]:
        """Delete forwarded outbox rows older than ``cutoff``; unforwarded rows are never deleted."""
        with self.database.session() as session:
            deleted = session.execute(
                delete(AuditRecord).where(
                    AuditRecord.recorded_at < cutoff, AuditRecord.forwarded_at.is_not(None)
                )
            )
            kept = (
                session.scalar(
                    select(func.count()).where(
                        AuditRecord.recorded_at < cutoff, AuditRecord.forwarded_at.is_(None)
                    )
                )
                or 0
            )
        return {"deleted": int(getattr(deleted, "rowcount", 0) or 0), "kept_unforwarded": kept}

    async def purge_remote(self, upstream: UpstreamClient, cutoff: datetime) -> int:
        """Delete this facade's AuditEvents recorded before ``cutoff`` from HAPI; returns how many."""
        stamp = cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
        deleted = 0
        while True:
            page = await upstream.get_json(
                "AuditEvent",
                {"site": "vte-facade", "date": f"lt{stamp}", "_elements": "id", "_count": "200"},
            )
            ids = [e["resource"]["id"] for e in page.get("entry", []) if "resource" in e]
            if not ids:
                return deleted
            for event_id in ids:
                await upstream.request("DELETE", f"AuditEvent/{event_id}")
                deleted += 1


def _outcome_text(entry: dict[str, Any]) -> str:
    outcome = (entry.get("response") or {}).get("outcome") or {}
    for issue in outcome.get("issue", []):
        text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
        if text:
            return str(text)[:300]
    return "no details"
