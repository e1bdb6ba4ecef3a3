"""Refreshing the published indicators: on request (the console's "recompute") and on a schedule.

One refresher per app runs jobs one at a time in the background (an evaluation already keeps
HAPI busy; two at once only queue inside it). A job recomputes one period for the region and
every hospital in it, or for one hospital. The schedule recomputes the current period and the
ones before it (``indicator_refresh_periods``) at the daily local times in
``indicator_refresh_times``, in the reporting zone of the indicator rules.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Literal

from facade.db import Database
from facade.indicators.periods import parse_period
from facade.indicators.service import catalog, evaluate_and_publish
from facade.settings import Settings
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.indicators.schedule")
JobState = Literal["queued", "running", "done", "failed"]
_KEEP = 50


@dataclass
class RefreshJob:
    """One recomputation: a period for the region (``org`` None) or for one hospital."""

    period: str
    org: str | None
    requested_by: str  # a console username, or "schedule"
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: JobState = "queued"
    queued_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reports: int = 0
    error: str | None = None
    # "incremental" or "full" when the stay ledger made the figures, with what it did (or why it
    # made a full pass); "" for a plain full evaluation (no database, or the ledger switched off).
    mode: str = ""
    note: str = ""


def next_run(now: datetime, times: list[str], tz: timezone) -> datetime | None:
    """The next moment after ``now`` at one of the daily local ``HH:MM`` times (None: no schedule)."""
    if not times:
        return None
    local = now.astimezone(tz)
    candidates = []
    for day in (local.date(), local.date() + timedelta(days=1)):
        for text in times:
            hour, minute = (int(part) for part in text.split(":"))
            moment = datetime.combine(day, time(hour, minute), tz)
            if moment > local:
                candidates.append(moment)
    return min(candidates)


def period_kind(label: str) -> str:
    """``year``, ``half``, ``quarter`` or ``month`` of a period label (already valid)."""
    if len(label) == 4:
        return "year"
    return {"Q": "quarter", "H": "half"}.get(label[5], "month")


def label_at(moment: datetime, kind: str, tz: timezone) -> str:
    """The label of the period of ``kind`` that contains ``moment`` (local time in ``tz``)."""
    local = moment.astimezone(tz)
    if kind == "year":
        return f"{local.year:04d}"
    if kind == "half":
        return f"{local.year:04d}-H{1 if local.month <= 6 else 2}"
    if kind == "quarter":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year:04d}-{local.month:02d}"


def periods_ending(label: str, count: int, tz: timezone) -> list[str]:
    """``count`` consecutive periods of the same kind ending with ``label``, oldest first."""
    kind = period_kind(label)
    out = [label]
    current = parse_period(label, tz)
    while len(out) < count:
        current = parse_period(label_at(current.start - timedelta(seconds=1), kind, tz), tz)
        out.append(current.label)
    return out[::-1]


def recent_periods(now: datetime, granularity: str, count: int, tz: timezone) -> list[str]:
    """The period containing ``now`` and the ``count - 1`` before it, newest first."""
    return periods_ending(label_at(now, granularity, tz), count, tz)[::-1]


class IndicatorRefresher:
    """The app's queue of indicator recomputations and the scheduler that feeds it."""

    def __init__(self, settings: Settings, database: Database | None = None) -> None:
        self.settings = settings
        # The stay ledger's database: with it (and ``indicator_incremental`` on) jobs refresh
        # incrementally (facade.indicators.incremental).
        self.database = database if settings.indicator_incremental else None
        self.tz = catalog(settings).definitions.rules.tz
        self._queue: asyncio.Queue[RefreshJob] | None = None
        self._jobs: deque[RefreshJob] = deque(maxlen=_KEEP)
        # Called after a job published (e.g. the console reads the new reports into its cache).
        self.after_job: Callable[[RefreshJob, UpstreamClient], Awaitable[None]] | None = None
        # A parent platform republishes its area from its children's reports (facade/network):
        # the hook answers how many reports it published, or None when there are no children.
        self.area: Callable[[str], Awaitable[int | None]] | None = None

    def request(self, period: str, org: str | None, requested_by: str) -> RefreshJob:
        """Queue a recomputation (the same period and scope already waiting is not queued twice)."""
        for job in self._jobs:
            if job.state == "queued" and job.period == period and job.org == org:
                return job
        job = RefreshJob(period, org, requested_by)
        self._jobs.appendleft(job)
        if self._queue is not None:
            self._queue.put_nowait(job)
        return job

    def jobs(self) -> list[RefreshJob]:
        """Recent jobs, newest first."""
        return list(self._jobs)

    def find(self, job_id: str) -> RefreshJob | None:
        """A recent job by id."""
        return next((job for job in self._jobs if job.id == job_id), None)

    async def run_job(self, job: RefreshJob, upstream: UpstreamClient) -> None:
        """Recompute and publish; the job records how it ended (a failure never escapes)."""
        job.state, job.started_at = "running", datetime.now(UTC)
        try:
            area = await self.area(job.period) if self.area and job.org is None else None
            if area is not None:
                job.reports = area
            else:
                run, tables = await evaluate_and_publish(
                    self.settings,
                    upstream,
                    job.period,
                    region=self.settings.indicator_region or None,
                    publish=None if job.org is None else [job.org],
                    database=self.database,
                )
                job.reports = sum(len(t.rows) for t in tables.values())
                if run.ledger is not None:
                    job.mode, job.note = run.ledger.mode, run.ledger.summary()
                    log.info("indicator refresh %s: %s", job.period, job.note)
            if self.after_job is not None:
                await self.after_job(job, upstream)
            job.state = "done"
        except Exception as exc:  # a failed job is shown to the person who asked; the loop goes on
            job.state, job.error = "failed", f"{type(exc).__name__}: {str(exc)[:300]}"
            log.warning(
                "indicator refresh %s %s failed: %s", job.period, job.org or "region", job.error
            )
        finally:
            job.finished_at = datetime.now(UTC)

    async def run(self, upstream: UpstreamClient, stop: asyncio.Event) -> None:
        """Run queued jobs and the daily schedule until ``stop`` is set."""
        self._queue = asyncio.Queue()
        for job in reversed(self._jobs):
            if job.state == "queued":
                self._queue.put_nowait(job)
        due = next_run(datetime.now(UTC), self.settings.indicator_refresh_times, self.tz)
        while not stop.is_set():
            now = datetime.now(UTC)
            if due is not None and now >= due:
                for period in recent_periods(
                    due,
                    self.settings.indicator_refresh_granularity,
                    self.settings.indicator_refresh_periods,
                    self.tz,
                ):
                    self.request(period, None, "schedule")
                due = next_run(now, self.settings.indicator_refresh_times, self.tz)
                continue
            wait = (due - now).total_seconds() if due is not None else 3600.0
            queued = await self._next(stop, min(wait, 3600.0))
            if queued is not None:
                await self.run_job(queued, upstream)

    async def _next(self, stop: asyncio.Event, timeout: float) -> RefreshJob | None:
        assert self._queue is not None  # noqa: S101 - set by run()
        getter = asyncio.ensure_future(self._queue.get())
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait(
            {getter, stopper}, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED
        )
        stopper.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()  # a job taken at this very moment is still returned below
        try:
            return await getter
        except asyncio.CancelledError:
            return None
