"""AuditLog: one AuditEvent per request, committed to the facade's append-only audit store.

Nothing is lost: a request's event is committed before its response leaves, as the outbox did.
While the app runs (``run``, started by ``facade.services.lifespan``) the commits are grouped:
a request queues its event and waits; the writer links everything queued to the hash chain in
one transaction and releases the waiting requests; whatever arrives meanwhile goes into the next
transaction. So one commit serves many requests under load and costs one at c=1, with no timer
and no backlog. Without the loop (operator commands, the native hook's worker threads, an app
whose lifespan is not running) ``record`` writes the event at once. Nothing is sent to HAPI:
auditors read the store through ``GET /fhir/AuditEvent`` and the console (facade/audit/api.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from facade.audit.events import AuditContext, audit_event
from facade.audit.store import AuditQuery, AuditStore, Page, Verification
from facade.db import Database
from facade.db.tables import utcnow
from facade.native.audit import NativeAuditEvent
from facade.native.codes import http_status
from facade.settings import Settings

log = logging.getLogger(__name__)

# (event id, recorded, what happened, HTTP status): turned into an AuditEvent by the writer.
_Pending = tuple[str, datetime, AuditContext, int]


class AuditLog:
    """The audit trail of one facade process, over the installation's audit store."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.store = AuditStore(database)
        self.base_url = settings.public_base_url + "/fhir"
        # Events waiting for the writer's next transaction, each with its waiting request.
        self._queue: list[tuple[_Pending, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None  # set while the writer runs
        self._loop: asyncio.AbstractEventLoop | None = None  # the writer's event loop

    # -- recording

    @staticmethod
    def _item(ctx: AuditContext, status: int) -> _Pending:
        now = utcnow()
        # Millisecond precision, as AuditEvent.recorded shows it: the column and the JSON agree.
        return (
            str(uuid.uuid4()),
            now.replace(microsecond=now.microsecond // 1000 * 1000),
            ctx,
            status,
        )

    def record(self, ctx: AuditContext, status: int) -> str:
        """Write the AuditEvent of a finished request now (a blocking call); returns its id."""
        item = self._item(ctx, status)
        self._write([item])
        return item[0]

    async def record_async(self, ctx: AuditContext, status: int) -> str:
        """``record`` from async code: returns once the event is committed (grouped with other
        requests' events while the writer runs, else written in a worker thread)."""
        wake = self._wake
        if wake is None or asyncio.get_running_loop() is not self._loop:
            return await asyncio.to_thread(self.record, ctx, status)
        item = self._item(ctx, status)
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, committed))
        wake.set()
        await committed
        return item[0]

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

    # -- writing

    def _write(self, items: list[_Pending]) -> None:
        events = [
            (
                ctx.door,
                audit_event(
                    ctx, event_id=event_id, recorded=at, status=status, base_url=self.base_url
                ),
            )
            for event_id, at, ctx, status in items
        ]
        self.store.append(events)

    async def _commit(self, batch: list[tuple[_Pending, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._write, [item for item, _ in batch])
        except Exception as exc:  # the requests fail (500): nothing is answered unaudited
            log.exception("%d audit events could not be written", len(batch))
            for _, committed in batch:
                if not committed.done():
                    committed.set_exception(exc)
            return
        for _, committed in batch:
            if not committed.done():  # a cancelled request's event is stored all the same
                committed.set_result(None)

    @property
    def pending(self) -> int:
        """Events queued in this process and not committed yet (their requests are waiting)."""
        return len(self._queue)

    async def run(self, stop: asyncio.Event) -> None:
        """Commit queued events, one transaction per round, until ``stop``; then the rest."""
        self._loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        stopping = asyncio.create_task(stop.wait())
        try:
            while True:
                if not self._queue:
                    if stop.is_set():
                        break
                    woken = asyncio.create_task(wake.wait())
                    await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    woken.cancel()
                wake.clear()
                batch, self._queue = self._queue, []
                if batch:
                    await self._commit(batch)
        finally:
            self._wake = None  # later events are written by their own requests
            stopping.cancel()
            batch, self._queue = self._queue, []
            if batch:
                await self._commit(batch)

    # -- reading, integrity, retention

    def search(self, query: AuditQuery) -> Page:
        """One page of stored events (facade.audit.store.AuditStore.search)."""
        return self.store.search(query)

    def status(self) -> dict[str, Any]:
        """For operators: events stored, waiting in this process, chain head, last purge."""
        return {**self.store.status(), "pending": self.pending}

    def verify(self) -> Verification:
        """Check every link of the chain (facade.audit.store.AuditStore.verify)."""
        return self.store.verify()

    def cutoff(self, days: int | None = None) -> datetime:
        """The instant before which events are past retention."""
        return utcnow() - timedelta(
            days=days if days is not None else self.settings.audit_retention_days
        )

    def purge(self, cutoff: datetime) -> dict[str, Any]:
        """Delete events past retention, leaving an anchor so the chain stays verifiable."""
        return self.store.purge(cutoff)
