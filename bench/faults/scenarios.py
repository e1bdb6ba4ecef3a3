"""The fault scenarios of issue 15: each pushes a synthetic region, breaks something, then checks.

* ``hapi_killed``: HAPI gets SIGKILL while the forwarder writes to it, and is started again;
* ``facade_killed``: the facade gets SIGKILL in the middle of an upload, is started again, and
  again once the push is over while it forwards;
* ``postgres_restarted``: PostgreSQL (HAPI's and the facade's databases) stops like a crash and
  starts again, twice: while hospitals upload and while the forwarder writes;
* ``resent_concurrently``: two sending processes, each sending every batch three times in an
  order of its own, to two facade processes sharing one database.

Each returns a ``Result``: the check's verdict (``bench.faults.check``) and the timings. Sizes
are records per scenario: small in the test suite, 10,000 in ``python -m bench faults``.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.faults.check import Verdict, check
from bench.faults.push import Batch, Ledger, Sender, plan_batches, send_in_process
from bench.faults.site import QueueWatch, Site
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.push import HospitalApp, register_region
from facade.upstream import UpstreamClient

RECORDS_PER_STAY = 4.8  # measured on generated regions (cases, assessments, prophylaxis, events)


@dataclass
class Result:
    """One scenario run: the verdict, the sizes and the timings (seconds)."""

    scenario: str
    records: int
    batches: int
    verdict: Verdict
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**asdict(self), "verdict": self.verdict.as_dict()}


@dataclass
class Prepared:
    """A region registered at the site and cut into batches."""

    region: Region
    apps: dict[str, HospitalApp]
    batches: list[Batch]

    @property
    def records(self) -> int:
        """Records in all batches."""
        return sum(len(b.records) for b in self.batches)


def prepare(site: Site, name: str, records: int, *, seed: int, batch_size: int = 50) -> Prepared:
    """A region of about ``records`` records in three hospitals, registered like real ones."""
    run = f"{name}{uuid.uuid4().hex[:6]}"
    stays = max(round(records / RECORDS_PER_STAY), 12)
    region = generate(RegionSpec(seed=seed, hospitals=3, encounters=stays, run=run))

    async def register() -> dict[str, HospitalApp]:
        upstream = UpstreamClient(site.settings)
        try:
            return dict(await register_region(site.settings, site.database, upstream, region))
        finally:
            await upstream.aclose()

    apps = asyncio.run(register())
    return Prepared(region, apps, plan_batches(region, run, batch_size=batch_size))


def _drain_budget(records: int) -> float:
    # Today's forwarder stores ~10 records/s with validation on, and backs off up to 300 s.
    return 900.0 + records / 2


@contextmanager
def _sending(
    url: str, prepared: Prepared, after_ack: Callable[[int], None] | None = None
) -> Iterator[tuple[Sender, Future[None]]]:
    """A sender pushing every batch in a thread of its own while the scenario breaks things."""
    sender = Sender(url, prepared.apps)
    with ThreadPoolExecutor(1, thread_name_prefix="hospital") as pool:
        future = pool.submit(
            sender.send,
            prepared.batches,
            deadline_s=_drain_budget(prepared.records),
            after_ack=after_ack,
        )
        try:
            yield sender, future
        finally:
            try:
                future.result()  # re-raises what went wrong in the sender
            finally:
                sender.close()


def verdict_of(site: Site, prepared: Prepared, ledger: Ledger) -> Verdict:
    """Check a run (``bench.faults.check``), asking the site's first facade for the receipts."""
    if not site.facade(0).running:
        site.facade(0).start()
    sender = Sender(site.facade(0).url, prepared.apps)
    try:
        return check(
            prepared.batches,
            ledger,
            sender=sender,
            database=site.database,
            fhir_base_url=site.settings.fhir_base_url,
            mappings_dir=site.settings.mappings_dir,
        )
    finally:
        sender.close()


def _wait_stored_share(watch: QueueWatch, total: int, share: float, timeout: float) -> int:
    """Wait until ``share`` of ``total`` records are stored, or every record received so far is
    (the forwarder may keep up with the senders); returns how many are stored."""
    sample = watch.wait(f"stored:{math.ceil(share * total)}", timeout)
    return sample.stored


def undisturbed(site: Site, records: int, *, seed: int = 1500) -> tuple[Prepared, Ledger]:
    """A push with no fault, drained; the facade is left running (the check's own tests)."""
    prepared = prepare(site, "ok", records, seed=seed)
    facade = site.facade(0)
    if not facade.running:
        facade.start()
    with QueueWatch(site.database, prepared.region.org_codes) as watch:
        with _sending(facade.url, prepared) as (sender, _):
            pass
        watch.wait("drained", _drain_budget(prepared.records))
    return prepared, sender.ledger


def hapi_killed(site: Site, records: int, *, seed: int = 1501) -> Result:
    """SIGKILL to HAPI while the forwarder writes (a tenth stored), then HAPI started again."""
    prepared = prepare(site, "hk", records, seed=seed)
    facade = site.facade(0)
    facade.start()
    figures: dict[str, Any] = {}
    started = time.monotonic()
    with QueueWatch(site.database, prepared.region.org_codes) as watch:
        with _sending(facade.url, prepared) as (sender, _):
            figures["stored_at_kill"] = _wait_stored_share(
                watch, prepared.records, 0.1, _drain_budget(prepared.records)
            )
            killed = time.monotonic()
            site.kill_hapi()
            figures["hapi_restart_s"] = site.start_hapi()
            returned = time.monotonic()
            figures["hapi_down_s"] = returned - killed
        figures["push_s"] = time.monotonic() - started
        figures["backlog_at_return"] = _accepted_at(watch, returned)
        drained = watch.wait("drained", _drain_budget(prepared.records))
        figures["resume_after_return_s"] = watch.resumed_after(returned)
        figures["drain_after_return_s"] = time.monotonic() - returned
        figures["stored_after_return"] = drained.stored - _stored_at(watch, returned)
    verdict = verdict_of(site, prepared, sender.ledger)
    facade.stop()
    return Result("hapi_killed", prepared.records, len(prepared.batches), verdict, figures)


# While the facade takes uploads it does not forward, and then it forwards in small rounds one
# at a time, so that the kill while forwarding always leaves work behind: at full speed the
# forwarder keeps up with the senders and a short push had nothing left to interrupt.
_UPLOADS_ONLY = {"VTE_FORWARD_ENABLED": "false"}
_SLOW_ROUNDS = {"VTE_FORWARD_CLAIM_SIZE": "10", "VTE_FORWARD_CONCURRENCY": "1"}


def facade_killed(site: Site, records: int, *, seed: int = 1502, intake_kills: int = 1) -> Result:
    """SIGKILL to the facade in the middle of an upload (``intake_kills`` times, spread over
    the push), each time started again at once; then, every record queued, once more while it
    forwards (a tenth stored); started again with the default settings to drain."""
    prepared = prepare(site, "fk", records, seed=seed)
    facade = site.facade(0)
    defaults = facade.extra
    facade.stop()
    facade.extra = {**defaults, **_UPLOADS_ONLY}
    facade.start()
    figures: dict[str, Any] = {"intake_kills": intake_kills, "restarts_s": []}
    batches = len(prepared.batches)
    marks = {batches * (k + 1) // (intake_kills + 1) for k in range(intake_kills)}
    reached = threading.Event()
    rng = random.Random(seed)

    def after_ack(n: int) -> None:
        if n in marks:
            reached.set()

    with QueueWatch(site.database, prepared.region.org_codes) as watch:
        with _sending(facade.url, prepared, after_ack) as (sender, sending):
            while not sending.done():
                if not reached.wait(0.5):
                    continue
                reached.clear()
                # The next upload is in flight now: strike somewhere inside it.
                time.sleep(rng.uniform(0.02, 0.3))
                facade.kill()
                figures["restarts_s"].append(facade.start())
        facade.stop()
        facade.extra = {**defaults, **_SLOW_ROUNDS}
        facade.start()
        figures["stored_at_forwarding_kill"] = _wait_stored_share(
            watch, prepared.records, 0.1, _drain_budget(prepared.records)
        )
        facade.kill()
        facade.extra = defaults
        figures["restarts_s"].append(facade.start())
        returned = time.monotonic()
        figures["backlog_at_restart"] = _accepted_at(watch, returned)
        _drained_after_restart(watch, prepared.records, returned, figures)
    verdict = verdict_of(site, prepared, sender.ledger)
    facade.stop()
    return Result("facade_killed", prepared.records, batches, verdict, figures)


def postgres_restarted(site: Site, records: int, *, seed: int = 1503) -> Result:
    """PostgreSQL stopped like a crash and started again while hospitals upload, and again
    while the forwarder writes to HAPI (both HAPI's and the facade's databases live there)."""
    prepared = prepare(site, "pg", records, seed=seed)
    facade = site.facade(0)
    facade.start()
    figures: dict[str, Any] = {"postgres_down_s": []}
    half = threading.Event()
    batches = len(prepared.batches)

    def after_ack(n: int) -> None:
        if n == batches // 3:
            half.set()

    with QueueWatch(site.database, prepared.region.org_codes) as watch:
        with _sending(facade.url, prepared, after_ack) as (sender, sending):
            while not half.wait(0.5) and not sending.done():
                pass
            if half.is_set():
                figures["postgres_down_s"].append(site.restart_postgres())
        _wait_stored_share(watch, prepared.records, 0.5, _drain_budget(prepared.records))
        figures["postgres_down_s"].append(site.restart_postgres())
        returned = time.monotonic()
        _drained_after_restart(watch, prepared.records, returned, figures)
    verdict = verdict_of(site, prepared, sender.ledger)
    facade.stop()
    return Result("postgres_restarted", prepared.records, batches, verdict, figures)


def resent_concurrently(site: Site, records: int, *, seed: int = 1504, rounds: int = 3) -> Result:
    """Two sending processes, each sending every batch ``rounds`` times in an order of its own,
    to two facade processes on one database (both forward)."""
    prepared = prepare(site, "rs", records, seed=seed)
    facades = [site.facade(0), site.facade(1)]
    for facade in facades:
        facade.start()
    apps = {org: asdict(app) for org, app in prepared.apps.items()}
    started = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with QueueWatch(site.database, prepared.region.org_codes) as watch:
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            parts = [
                pool.submit(send_in_process, facade.url, apps, prepared.batches, rounds, seed + n)
                for n, facade in enumerate(facades)
            ]
            ledgers = [part.result() for part in parts]
        figures: dict[str, Any] = {"rounds": rounds, "push_s": time.monotonic() - started}
        watch.wait("drained", _drain_budget(prepared.records))
        figures["drain_after_push_s"] = time.monotonic() - started - figures["push_s"]
    ledger = Ledger.merged(ledgers)
    figures["uploads"] = sum(b.attempts for b in ledger.batches.values())
    verdict = verdict_of(site, prepared, ledger)
    for facade in facades:
        facade.stop()
    return Result("resent_concurrently", prepared.records, len(prepared.batches), verdict, figures)


def _drained_after_restart(
    watch: QueueWatch, records: int, returned: float, figures: dict[str, Any]
) -> None:
    """Wait for the queue to drain; record how soon forwarding resumed and the drain took."""
    watch.wait("drained", _drain_budget(records))
    figures["resume_after_restart_s"] = watch.resumed_after(returned)
    figures["drain_after_restart_s"] = time.monotonic() - returned


def _accepted_at(watch: QueueWatch, moment: float) -> int | None:
    before = [s for s in watch.ordered() if s.at <= moment]
    return before[-1].accepted if before else None


def _stored_at(watch: QueueWatch, moment: float) -> int:
    before = [s for s in watch.ordered() if s.at <= moment]
    return before[-1].stored if before else 0


SCENARIOS: dict[str, Callable[[Site, int], Result]] = {
    "hapi_killed": hapi_killed,
    "facade_killed": facade_killed,
    "postgres_restarted": postgres_restarted,
    "resent_concurrently": resent_concurrently,
}
