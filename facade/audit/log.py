"""AuditLog: one AuditEvent per request, committed to the facade's append-only audit store.

Nothing is lost: a request's event is committed before its response leaves, as the outbox did.
While the app runs (``run``, started by ``facade.services.lifespan``) the commits are grouped:
a request queues its event and waits; the writer, a thread of its own, links everything queued
to the hash chain in one transaction and releases the waiting requests; whatever arrives
meanwhile goes into the next transaction. So one commit serves many requests under load and
costs one at c=1, with no timer and no backlog. (The writer was a task handing each commit to
the loop's thread pool; the thread is cheaper per lone read: bench/README.md, reads, stop 27.)
Without the loop (operator commands, the native hook's worker threads, an app whose lifespan is
not running) ``record`` writes the event at once. Nothing is sent to HAPI: auditors read the
store through ``GET /fhir/AuditEvent`` and the console (facade/audit/api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
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
# An event and the future its request waits on; None tells the writer thread to finish.
_Queued = tuple[_Pending, "asyncio.Future[None]"] | None


class AuditLog:
    """The audit trail of one facade process, over the installation's audit store."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.store = AuditStore(database)
        self.base_url = settings.public_base_url + "/fhir"
        # While run() runs: the loop it serves and the writer thread's queue of events, each
        # with its waiting request.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._pending = 0  # queued and not settled (counted on the loop)

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
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            return await asyncio.to_thread(self.record, ctx, status)
        item = self._item(ctx, status)
        committed: asyncio.Future[None] = loop.create_future()
        self._pending += 1
        self._inbox.put((item, committed))
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

    def _writer(
        self,
        loop: asyncio.AbstractEventLoop,
        inbox: queue.SimpleQueue[_Queued],
        released: threading.Event,
    ) -> None:
        """The writer thread: one transaction per round of whatever is queued, until told to stop.

        A round starts only once the loop has released the previous round's requests
        (``released``): what queued meanwhile then goes together. Taking the next round at
        once made more, smaller transactions under load (bench/README.md, reads, stop 27).
        """
        # One connection for every round: a checkout from the pool pings first (holding).
        with self.store.holding():
            stopping = False
            while not stopping:
                batch = [inbox.get()]
                released.wait()
                with contextlib.suppress(queue.Empty):
                    while True:
                        batch.append(inbox.get_nowait())
                # The loop stops queueing before it sends None: None is last.
                stopping = None in batch
                waiting = [queued for queued in batch if queued is not None]
                if not waiting:
                    continue
                released.clear()
                error: Exception | None = None
                try:
                    self._write([item for item, _ in waiting])
                except Exception as exc:  # the requests fail (500): nothing is answered unaudited
                    log.exception("%d audit events could not be written", len(waiting))
                    error = exc
                loop.call_soon_threadsafe(self._settle, waiting, error, released)

    def _settle(
        self,
        waiting: list[tuple[_Pending, asyncio.Future[None]]],
        error: Exception | None,
        released: threading.Event,
    ) -> None:
        """On the loop: release the requests of one round (a cancelled one's event is stored)."""
        self._pending -= len(waiting)
        for _, committed in waiting:
            if committed.done():
                continue
            if error is None:
                committed.set_result(None)
            else:
                committed.set_exception(error)
        # The writer goes on after the released requests' next steps, scheduled just now.
        asyncio.get_running_loop().call_soon(released.set)

    @property
    def pending(self) -> int:
        """Events queued in this process and not committed yet (their requests are waiting)."""
        return self._pending

    async def run(self, stop: asyncio.Event) -> None:
        """Commit queued events in the writer thread until ``stop``; then the rest."""
        loop = asyncio.get_running_loop()
        # A queue and a pacing event of its own: a writer of an earlier run that was cancelled
        # mid-write cannot take this run's events or leave it waiting.
        inbox: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        released = threading.Event()
        released.set()
        writer = threading.Thread(
            target=self._writer, args=(loop, inbox, released), name="vte-audit-writer", daemon=True
        )
        writer.start()
        self._loop, self._inbox, self._pending = loop, inbox, 0
        try:
            await stop.wait()
        finally:
            self._loop = None  # later events are written by their own requests
            inbox.put(None)
            # The last round's _settle was scheduled before the join's result: it runs first.
            await asyncio.to_thread(writer.join)

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
