"""Sampled validation of the forwarder's own writes: the production half of "validate once".

HAPI stores the forwarder's mapped resources without validating them (trusted writes), because
the mapping engine builds them from dictionary-checked records and a property test proves the
mapping conformant (tests/mapping/test_mapping_conformance.py). In production a share
(``forward_validate_sample_rate``) of stored records is read back from HAPI and checked with
``$validate`` in the background; an error raises an alarm: an ERROR log line, the counter
``vte_forward_validation_alarms_total`` and a row that ``vte-facade forward status`` shows.
The check never delays or blocks forwarding: the queue of samples is bounded and drops the
excess (counted in ``vte_forward_validation_samples_total{outcome="dropped"}``), and a sample
waits while the forwarder is writing, for at most ``forward_validate_max_delay_seconds``. A
check in the middle of HAPI's write stream costs HAPI far more than the check alone (a few
checks during a 10,000-stay backfill added 10-28 CPU-s to HAPI's ~110, see bench/README.md,
"ingest", stop 26), so checks use the forwarder's quiet moments; during a long backfill each
still runs once it has waited that long.

HAPI's validator is expensive (about 30 times the write of the resource it checks), so the
checks also have a budget, ``forward_validate_per_minute`` resources: a backfill moving hundreds
of records a second would otherwise spend a third of HAPI on them. The budget counts resources,
not records, because HAPI pays per resource checked and a stay's record brings several. Samples
over the budget are counted (``outcome="over_budget"``) and not checked; at a region's daily
pace the budget is never reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facade.db import Database
from facade.errors import UpstreamError, UpstreamRejected
from facade.forward.reasons import redact_quotes
from facade.forward.tables import ForwardValidationAlarm
from facade.ig.loader import errors_of, validate
from facade.metrics.registry import VALIDATION_ALARMS, VALIDATION_SAMPLES
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.forward.sampling")

QUEUE_LIMIT = 200


@dataclass(frozen=True)
class Sample:
    """A stored record's resources to check (``Type/id`` each)."""

    receipt_id: str
    resources: tuple[str, ...]
    taken: float = 0.0  # when it was taken (the sampler's clock)


class Sampler:
    """Picks stored records at ``rate`` and checks them one after the other in the background."""

    def __init__(
        self,
        database: Database,
        upstream: UpstreamClient,
        rate: float,
        *,
        per_minute: int = 6,
        max_delay: float = 600.0,
        chooser: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.upstream = upstream
        self.rate = rate
        self.max_delay = max_delay
        self.clock = clock
        self.budget = Budget(per_minute, clock)
        self.random = chooser or random.Random()  # noqa: S311 - sampling, not secrets
        self._queue: asyncio.Queue[Sample] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._quiet = _event(is_set=True)  # set while the forwarder is not writing

    def forwarding(self, writing: bool) -> None:
        """Tell the checker whether the forwarder is writing (samples wait while it is)."""
        if writing:
            self._quiet.clear()
        else:
            self._quiet.set()

    def offer(self, receipt_id: str, resources: list[str]) -> None:
        """Consider a stored record for checking (cheap; never waits)."""
        if self.rate <= 0 or not resources or self.random.random() >= self.rate:
            return
        if not self.budget.take(len(resources)):
            VALIDATION_SAMPLES.labels("over_budget").inc()
            return
        if self._queue is None:
            self._queue = asyncio.Queue(QUEUE_LIMIT)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(self._queue), name="vte-forward-sampler")
        try:
            self._queue.put_nowait(Sample(receipt_id, tuple(resources), self.clock()))
        except asyncio.QueueFull:
            VALIDATION_SAMPLES.labels("dropped").inc()

    async def flush(self, timeout: float = 60.0) -> None:
        """Wait until the samples taken so far are checked (at most ``timeout`` seconds)."""
        if self._queue is not None and self._worker is not None and not self._worker.done():
            try:
                await asyncio.wait_for(self._queue.join(), timeout)
            except TimeoutError:
                log.warning("sampled validation: %d sample(s) left unchecked", self._queue.qsize())

    async def close(self) -> None:
        """Stop the background checker (samples not yet checked are dropped)."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        self._queue = None  # bound to this event loop; the next drain may run in another
        self._quiet = _event(is_set=self._quiet.is_set())  # so may the event be

    async def _until_quiet(self, sample: Sample) -> None:
        """Wait while the forwarder writes, at most until the sample is ``max_delay`` old."""
        left = sample.taken + self.max_delay - self.clock()
        if self._quiet.is_set() or left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), left)

    async def _work(self, queue: asyncio.Queue[Sample]) -> None:
        while True:
            sample = await queue.get()
            try:
                await self._until_quiet(sample)
                await self.check(sample)
            except Exception:  # a failed check must not end the checker; the cause is logged
                log.exception("sampled validation of receipt %s could not run", sample.receipt_id)
            finally:
                queue.task_done()

    async def check(self, sample: Sample) -> int:
        """Read back and ``$validate`` each resource of a sample; returns the alarms raised."""
        alarms = 0
        for ref in sample.resources:
            try:
                resource = await self.upstream.get_json(ref)
                outcome = await validate(self.upstream, resource)
            except UpstreamRejected as exc:
                if exc.upstream_status in (404, 410):  # deleted by a later correction meanwhile
                    continue
                VALIDATION_SAMPLES.labels("unchecked").inc()
                return alarms
            except UpstreamError:
                VALIDATION_SAMPLES.labels("unchecked").inc()
                return alarms
            errors = errors_of(outcome)
            if not errors:
                VALIDATION_SAMPLES.labels("valid").inc()
                continue
            VALIDATION_SAMPLES.labels("invalid").inc()
            VALIDATION_ALARMS.inc()
            alarms += 1
            message = alarm_text(errors[0])
            log.error(
                "sampled validation: %s of receipt %s fails its profile: %s",
                ref,
                sample.receipt_id,
                message,
            )
            await asyncio.to_thread(self._remember, sample.receipt_id, ref, message)
        return alarms

    def _remember(self, receipt_id: str, ref: str, message: str) -> None:
        with self.database.session() as session:
            session.add(
                ForwardValidationAlarm(receipt_id=receipt_id, resource_ref=ref, message=message)
            )


class Budget:
    """At most ``per_minute`` tokens a minute, spread out: a bucket of ``per_minute`` tokens that
    refills continuously (a quiet hour does not bank more than a minute's worth). A take may cost
    more than what is left: it is allowed while one token is there, and the debt is paid before
    the next one (a record of many resources is checked whole, the rate holds over time)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = float(max(1, per_minute))
        self.clock = clock
        self.tokens = self.size
        self.last = clock()

    def take(self, cost: int = 1) -> bool:
        """Spend ``cost`` tokens if at least one is there."""
        now = self.clock()
        self.tokens = min(self.size, self.tokens + (now - self.last) * self.size / 60.0)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= max(cost, 1)
        return True


def _event(*, is_set: bool) -> asyncio.Event:
    event = asyncio.Event()
    if is_set:
        event.set()
    return event


def alarm_text(issue: dict[str, Any]) -> str:
    """Where and what, from one OperationOutcome issue, without quoted values (they may be data)."""
    where = ", ".join(str(x) for x in (issue.get("expression") or issue.get("location") or []))
    text = str(issue.get("diagnostics") or issue.get("details") or issue.get("code") or "")
    return redact_quotes(f"{where}: {text}" if where else text)[:1000]
