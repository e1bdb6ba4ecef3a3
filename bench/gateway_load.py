"""Loading a benchmark's synthetic region through the product's native gateway, as hospitals would.

For benchmarks that measure something else on a loaded region (the indicator benchmark): each
hospital is registered (Organization in HAPI, institution and HMAC-SM3 app in a facade database
of the bench cluster), then every hospital uploads its signed batches at the same time to a
``vte-facade serve`` process whose in-process forwarder writes to HAPI, and the load ends when
every receipt is STORED. A refused record, a failed receipt or a forwarder that stops moving ends
the benchmark with the counts; a progress line shows records received and stored meanwhile.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.ingest import register, settled_span, upload_in_parallel
from bench.ingest_stack import PASSWORD, LoadMeter, Stack
from facade.db import Database
from facade.forward.status import backlog
from facade.settings import Settings
from facade.synth.generator import Region
from facade.synth.push import HospitalApp

# How often the receipts are counted, and how often a progress line is printed when the output
# is not a terminal (a log file gets lines, a terminal one line rewritten in place).
POLL_SECONDS = 2.0
LOG_LINE_SECONDS = 30.0
# A load that neither accepts nor stores a record for this long has stalled.
STALL_SECONDS = 600.0


@dataclass
class GatewayLoad:
    """What a load through the gateway wrote, and how fast.

    ``seconds`` runs from the first receipt to the last one STORED (as ``bench ingest`` times
    the native path); ``versions`` counts every resource version HAPI wrote (a Patient updated
    by a later stay counts again), ``resources`` the resources the load added.
    """

    records: int
    resources: int
    versions: int
    seconds: float
    upload_seconds: float
    machine_load: str

    @property
    def rate(self) -> float:
        """Resource versions written per second."""
        return self.versions / self.seconds if self.seconds else 0.0

    @property
    def record_rate(self) -> float:
        """Records stored per second."""
        return self.records / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, rates included."""
        return {**self.__dict__, "rate": self.rate, "record_rate": self.record_rate}


def facade_settings(stack: Stack, name: str) -> Settings:
    """Settings of a new, empty facade database ``name`` on the stack's cluster."""
    stack.cluster.create_database(name, "facade", PASSWORD)
    return stack.settings(name)


def hapi_rows(stack: Stack) -> tuple[int, int]:
    """(resources, resource versions) in HAPI's database."""
    out = stack.cluster.sql(
        "SELECT count(*) FROM hfj_resource", "SELECT count(*) FROM hfj_res_ver", database="hapi"
    )
    resources, versions = (int(line) for line in out.split())
    return resources, versions


class _Uploads(threading.Thread):
    """Every hospital's uploads (``bench.ingest.upload_in_parallel``), off the main thread."""

    def __init__(self, region: Region, apps: dict[str, HospitalApp], url: str) -> None:
        super().__init__(daemon=True)
        self.region, self.apps, self.url = region, apps, url
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.perf_counter()
        try:
            upload_in_parallel(self.region, self.apps, self.url)
        except BaseException as exc:  # reported by the waiting thread, with the counts
            self.error = exc
        self.seconds = time.perf_counter() - started


def _counts(queue: dict[str, int], expected: int) -> str:
    return (
        f"{sum(queue.values()):,} of {expected:,} records received, "
        f"{queue['stored']:,} STORED, {queue['accepted']:,} waiting, {queue['failed']:,} failed"
    )


def _wait(database: Database, expected: int, uploads: _Uploads) -> None:
    """Until every record is accepted and STORED, with a progress line; SystemExit naming the
    counts when the gateway refused a record, a receipt failed, or nothing moved for a while."""
    started = last_line = moved = time.monotonic()
    last: dict[str, int] = {}
    tty = sys.stdout.isatty()
    while True:
        # Read before the counts: uploads that end after this look have all been counted next time.
        uploaded = not uploads.is_alive()
        state = backlog(database)
        queue: dict[str, int] = state["queue"]
        now = time.monotonic()
        elapsed = now - started
        line = (
            f"  gateway load: {_counts(queue, expected)}; {elapsed:.0f} s, "
            f"{queue['stored'] / max(elapsed, 1.0):.0f} records/s"
        )
        if tty:  # the line rewritten in place, the rest of a longer earlier one erased
            print(f"\r{line}\x1b[K", end="", flush=True)
        elif now - last_line >= LOG_LINE_SECONDS:
            print(line, flush=True)
            last_line = now
        if uploads.error is not None or queue["failed"] or (uploaded and not queue["accepted"]):
            break
        if queue != last:
            last, moved = queue, now
        elif now - moved > STALL_SECONDS:
            raise SystemExit(
                f"\ngateway load stalled for {STALL_SECONDS:.0f} s: {_counts(queue, expected)}"
            )
        time.sleep(POLL_SECONDS)
    print(f"\r{line}" if tty else line, flush=True)
    if uploads.error is not None:
        raise SystemExit(
            f"the gateway refused records ({uploads.error}); {_counts(queue, expected)}"
        )
    if queue["failed"]:
        reasons = "; ".join(f"{f['records']}× {f['reason']}" for f in state["failuresByReason"])
        raise SystemExit(
            f"receipts failed upstream: {_counts(queue, expected)}. Reasons: {reasons}"
        )
    if queue["stored"] < expected:
        raise SystemExit(f"records missing after the uploads: {_counts(queue, expected)}")


def load_through_gateway(stack: Stack, settings: Settings, region: Region) -> GatewayLoad:
    """Register the region's hospitals in the facade database of ``settings``, upload every
    record to ``vte-facade serve`` (started here, stopped before returning) and wait until all
    of them are STORED in HAPI."""
    database = stack.migrate(settings)
    try:
        apps = dict(asyncio.run(register(settings, database, region)))
        expected = sum(len(v) for kinds in region.records().values() for v in kinds.values())
        resources_before, versions_before = hapi_rows(stack)
        serve = stack.serve(settings)
        try:
            with LoadMeter() as meter:
                uploads = _Uploads(region, apps, f"{settings.public_base_url}/vte-x/v1/gateway")
                uploads.start()
                _wait(database, expected, uploads)
                uploads.join()
        finally:
            stack.end(serve)
        seconds, _ = settled_span(database)
    finally:
        database.dispose()
    resources_after, versions_after = hapi_rows(stack)
    return GatewayLoad(
        records=expected,
        resources=resources_after - resources_before,
        versions=versions_after - versions_before,
        seconds=seconds,
        upload_seconds=uploads.seconds,
        machine_load=meter.text,
    )
