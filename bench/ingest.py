"""Ingest benchmark (issue 11): ``python -m bench ingest``, every ratio from one run.

One PostgreSQL cluster and HAPI on it (write-time validation on, the trusted-write key set: the
production settings), then:

1. **direct** — a synthetic region of ``VTE_BENCH_INGEST_STAYS`` stays (10,000) mapped exactly
   as the forwarder maps it and posted straight to HAPI with the forwarder's transactions,
   concurrency, ordering and trusted-write header (bench/ingest_direct.py);
2. **native** — another region of the same size (same seed, other institutions) through the
   product: hospitals registered, signed HMAC-SM3 batches of 200 records to ``vte-facade
   serve`` (its in-process forwarder on), timed from the first upload to the last receipt
   STORED; then direct again (a third region). The ratio divides by the mean of the two direct
   runs (the first one meets a cold HAPI); resources per second;
3. **fhir** — hospital transaction Bundles through the FHIR door against the same Bundles posted
   straight to HAPI, both validated, at concurrency 1 and 4 (bench/ingest_fhir.py;
   ``VTE_BENCH_INGEST_FHIR_BUNDLES`` per door and concurrency, default 200);
4. **scale** — a queue of ``VTE_BENCH_INGEST_SCALE_RECORDS`` records (10,000) filled through two
   serving facades and drained by two ``vte-facade forward`` processes on one PostgreSQL
   database, then checked in HAPI for duplicates, losses and version order; one forwarder first
   as the baseline unless ``VTE_BENCH_SCALE_BASELINE=0`` (bench/ingest_scale.py);
5. **pinned** — direct, native, direct again, as if HAPI and the facade each had a machine:
   HAPI and its cluster on core 0; the facade, a second cluster for its database alone
   (``VTE_BENCH_FACADE_PG_DIR``, ``VTE_BENCH_FACADE_PG_PORT``: the first's directory and port
   + 1) and the loaders on core 1. The ratio divides by the mean of the two direct runs. Run
   alone, it first warms the new HAPI with ``VTE_BENCH_INGEST_WARM_UPS`` (default 1) unpinned
   direct runs it does not count.

The CPU time of HAPI, of each cluster, of the facade process and of the benchmark's own process
(the direct loader, or the uploading hospitals) is printed for every direct and native run.

``VTE_BENCH_INGEST_FORWARDER=process`` runs the native parts' forwarder as a ``vte-facade
forward`` process of its own beside a ``serve`` that only takes uploads (default ``serve``: the
serving process forwards too, as it does out of the box). ``VTE_BENCH_INGEST_SERVE_NICE`` (default
0) starts the native parts' ``serve`` at a lower priority (``nice -n``): beside a forwarder
process on the same core, the forwarder then runs whenever it has work and the uploads take what
is left.

``VTE_BENCH_INGEST_PARTS`` picks parts (default ``direct,native``; ``fhir``, ``scale`` and
``pinned`` on request, e.g. ``direct,native,pinned``);
``VTE_BENCH_PG_DIR``, ``VTE_BENCH_PG_PORT``, ``VTE_BENCH_HAPI_PORT`` and
``VTE_BENCH_FACADE_PORT`` (and the next two) place the run, so that two can share a machine;
``VTE_BENCH_HAPI_ENV`` adds HAPI settings (``NAME=value,...``, e.g.
``HAPI_MASS_INGESTION_MODE=true``) and ``VTE_BENCH_HAPI_JAVA_OPTS`` its JVM options (default
``-Xmx2g``) for comparing them; ``VTE_BENCH_KEEP=1`` leaves the stack running. The machine's
load average is sampled during every part and printed with it, and its speed
(``bench/calibration.py``) before and after the run.
Results: printed, and written to var/bench-ingest/results.json.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from bench import calibration
from bench.cores import (
    FACADE_CORE,
    CpuMeter,
    cpu_seconds,
    own_cpu_seconds,
    postmaster,
    tree_cpu_seconds,
)
from bench.ingest_direct import planned_records, post_direct
from bench.ingest_fhir import fhir_part, report_fhir
from bench.ingest_scale import report_scale, scale_part
from bench.ingest_stack import (
    PASSWORD,
    STATE,
    LoadMeter,
    Stack,
    at_once,
    pinned_layout,
)
from bench.pgcluster import PgCluster
from facade.db import Database
from facade.native.tables import IntakeRecord
from facade.settings import Settings
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.push import HospitalApp, register_region, upload_region
from facade.upstream import UpstreamClient

SEED = 11
# Where the native part forwards: in the serving process (``serve``, the default) or in a
# ``vte-facade forward`` process of its own beside a serve that only takes uploads (``process``).
FORWARDER = os.environ.get("VTE_BENCH_INGEST_FORWARDER", "serve")
# The serving process's niceness in the native parts (0: as everyone else's).
SERVE_NICE = int(os.environ.get("VTE_BENCH_INGEST_SERVE_NICE", "0"))
# Uncounted direct runs that warm a new HAPI before the pinned part when it runs alone: HAPI's
# cost per resource keeps falling for about 200,000 resources (stop 32), one run writes ~80,000.
WARM_UPS = int(os.environ.get("VTE_BENCH_INGEST_WARM_UPS", "1"))
# A forwarder process of its own serves no metrics, so the benchmark cannot see its sampled checks
# end: it waits this long after the last record stored (they ended 2.2-4.7 s after it in stops
# 30-31).
CHECKS_GRACE_S = 10.0


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def region_of(stays: int, tag: str) -> Region:
    """The benchmark's region: the same seed every time, institutions told apart by ``tag``."""
    return generate(
        RegionSpec(seed=SEED, hospitals=max(3, min(20, stays // 3000)), encounters=stays, run=tag)
    )


async def register(settings: Settings, database: Database, region: Region) -> dict[str, Any]:
    """Admit the region's hospitals and issue their apps (as an operator would)."""
    upstream = UpstreamClient(settings)
    try:
        return dict(await register_region(settings, database, upstream, region))
    finally:
        await upstream.aclose()


def upload_in_parallel(region: Region, apps: dict[str, HospitalApp], url: str) -> None:
    """Every hospital uploads its own records at the same time (one thread each)."""

    def one(org: str) -> None:
        part = Region(
            region.spec,
            region.period,
            [h for h in region.hospitals if h.org_code == org],
            [s for s in region.stays if s.hospital.org_code == org],
            region.cutoff,
            region.people,
        )
        with httpx.Client(timeout=600) as http:
            upload_region(part, {org: apps[org]}, http, url=url)

    at_once(one, apps)


def wait_all_settled(database: Database, expected: int, *, quiet_seconds: float = 600) -> None:
    """Until ``expected`` receipts exist and none is accepted; gives up when nothing moves."""
    last, moved = (-1, -1), time.monotonic()
    while True:
        with database.session() as session:
            rows = dict(
                session.execute(
                    select(IntakeRecord.status, func.count()).group_by(IntakeRecord.status)
                ).all()
            )
        total, accepted = sum(rows.values()), rows.get("accepted", 0)
        if total >= expected and accepted == 0:
            return
        if (total, accepted) != last:
            last, moved = (total, accepted), time.monotonic()
        elif time.monotonic() - moved > quiet_seconds:
            raise SystemExit(f"nothing moved for {quiet_seconds:.0f} s: {rows}")
        time.sleep(0.5)


def settled_span(database: Database) -> tuple[float, dict[str, int]]:
    """Seconds from the first receipt to the last one stored, and receipts by status."""
    with database.session() as session:
        first, last = session.execute(
            select(func.min(IntakeRecord.created_at), func.max(IntakeRecord.stored_at))
        ).one()
        rows = dict(
            session.execute(
                select(IntakeRecord.status, func.count()).group_by(IntakeRecord.status)
            ).all()
        )
    if first is None or last is None:
        raise SystemExit(f"no receipt was stored: {rows}")
    return (last - first).total_seconds(), rows


def cpu_counters(stack: Stack, *clusters: PgCluster) -> dict[str, Callable[[], float]]:
    """What a part's CPU time is counted on: HAPI, each PostgreSQL cluster (HAPI's first) and
    this process (the direct loader, or the uploading hospitals). The facade process is counted
    by ``native_part`` itself."""
    hapi = stack.hapi_pid()
    counters: dict[str, Callable[[], float]] = {"HAPI": lambda: cpu_seconds(hapi)}
    for name, cluster in zip(
        ("PostgreSQL", "facade's PostgreSQL"), (stack.cluster, *clusters), strict=False
    ):
        counters[name] = partial(tree_cpu_seconds, postmaster(cluster))
    counters["bench process"] = lambda: own_cpu_seconds()[0]
    return counters


def direct_part(
    settings: Settings, stays: int, counters: dict[str, Callable[[], float]]
) -> dict[str, Any]:
    """A region mapped (untimed) and posted straight to HAPI as the forwarder would post it."""
    region = region_of(stays, f"direct-{time.time_ns()}")
    concurrency, max_entries = settings.forward_concurrency, settings.forward_bundle_max_entries
    planned = planned_records(settings, region)
    with LoadMeter() as load, CpuMeter(counters) as cpu:
        direct = asyncio_run(
            post_direct(settings, planned, max_entries=max_entries, concurrency=concurrency)
        )
    print(
        f"direct: {direct.resources} resources in {direct.seconds:.1f} s = "
        f"{direct.rate:.0f} res/s ({max_entries} entries, {concurrency} in flight; "
        f"load {load.text})\n  CPU-s: {busy(cpu.used, direct.seconds)}; "
        f"total {sum(cpu.used.values()):.1f}"
    )
    return {**direct.__dict__, "rate": direct.rate, "load": load.text, "cpu_s": cpu.used}


def native_part(
    stack: Stack, settings: Settings, stays: int, counters: dict[str, Callable[[], float]]
) -> dict[str, Any]:
    """Gateway → forwarder → HAPI, end to end, with the facade in its own process."""
    database = stack.migrate(settings)
    region = region_of(stays, f"native-{time.time_ns()}")
    apps = asyncio_run(register(settings, database, region))
    resources = sum(p.size for p in planned_records(settings, region))
    records = sum(len(v) for kinds in region.records().values() for v in kinds.values())
    alone = FORWARDER == "process"
    serve = stack.serve(
        settings, nice=SERVE_NICE, **({"VTE_FORWARD_ENABLED": "false"} if alone else {})
    )
    env = stack.environment(settings)
    processes = [serve, *([stack.spawn(["forward"], env, "forward.log")] if alone else [])]
    names = ["facade serve", "facade forward"] if alone else ["facade"]
    facade = {name: partial(cpu_seconds, p.pid) for name, p in zip(names, processes, strict=True)}
    try:
        time.sleep(3.0 if alone else 0.0)  # the forwarder's imports are not intake either
        with LoadMeter() as load, CpuMeter({**facade, **counters}) as cpu:
            started = time.perf_counter()
            upload_in_parallel(region, apps, f"{settings.public_base_url}/vte-x/v1/gateway")
            uploaded = time.perf_counter() - started
            at_upload = cpu.so_far()
            wait_all_settled(database, records)
            wall = time.perf_counter() - started
            at_settled = cpu.so_far()
            # The sampled checks wait for the forwarder's quiet moments: let them finish inside
            # the CPU meter, so HAPI's CPU of this part includes them and the direct run after
            # this one does not share HAPI with them.
            if alone:
                time.sleep(CHECKS_GRACE_S)
                checks_s = None
            else:
                checks_s = wait_checks_done(settings.public_base_url)
        upstream = {} if alone else upstream_requests(settings.public_base_url)
    finally:
        for process in processes:
            stack.end(process)
    span, statuses = settled_span(database)
    database.dispose()
    if statuses.get("failed"):
        raise SystemExit(f"native part: {statuses['failed']} receipts failed; see the database")
    return {
        "records": records,
        "resources": resources,
        "upload_s": uploaded,
        "seconds": span,
        "wall_s": wall,
        "rate": resources / span,
        "load": load.text,
        "cpu_s": cpu.used,
        # Where the CPU went while the hospitals uploaded and after, until the last record was
        # stored (the sampled checks after that are in cpu_s only).
        "phases": {
            "uploads": {"seconds": uploaded, "cpu_s": at_upload},
            "drain": {"seconds": wall - uploaded, "cpu_s": minus(at_settled, at_upload)},
        },
        "upstream_requests": upstream,
        "checks_after_s": checks_s,
    }


def minus(later: dict[str, float], earlier: dict[str, float]) -> dict[str, float]:
    """CPU seconds gained between two readings of the same counters."""
    return {name: round(seconds - earlier[name], 1) for name, seconds in later.items()}


def busy(cpu_s: dict[str, float], seconds: float) -> str:
    """``name 12.3 (45 %), ...``: each counter's CPU seconds and its share of one core."""
    return ", ".join(f"{name} {used:.1f} ({used / seconds:.0%})" for name, used in cpu_s.items())


def checks_done(base_url: str) -> float:
    """Sampled resources checked so far (valid, invalid or unchecked), from /metrics."""
    found = upstream_requests(base_url)
    return sum(
        v
        for k, v in found.items()
        if k.startswith("forward_validation_samples_total")
        and any(f'"{o}"' in k for o in ("valid", "invalid", "unchecked"))
    )


def wait_checks_done(base_url: str, *, quiet: float = 5.0, limit: float = 300.0) -> float:
    """Wait until no sampled check has finished for ``quiet`` seconds; the seconds it took
    (less the quiet tail)."""
    started = last_change = time.perf_counter()
    seen = checks_done(base_url)
    while time.perf_counter() - last_change < quiet and time.perf_counter() - started < limit:
        time.sleep(0.5)
        now = checks_done(base_url)
        if now != seen:
            seen, last_change = now, time.perf_counter()
    return last_change - started


def upstream_requests(base_url: str) -> dict[str, float]:
    """What the facade asked HAPI, from its own metrics: requests by method and outcome, and the
    sampled validations (each one a read and a ``$validate`` per resource), and the records the
    forwarder settled by outcome (a release is a retry: a conflict or a link still on its way)."""
    found: dict[str, float] = {}
    for line in httpx.get(f"{base_url}/metrics", timeout=30).text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith(
            (
                "vte_upstream_request_duration_seconds_count",
                "vte_upstream_request_duration_seconds_sum",
                "vte_forward_validation_samples_total",
                "vte_forward_records_total",
            )
        ):
            found[name.removeprefix("vte_")] = float(value)
    return found


def asyncio_run(coroutine: Any) -> Any:
    """``asyncio.run`` (imported late: the module stays importable without an event loop)."""
    import asyncio

    return asyncio.run(coroutine)


def report_native(
    before: dict[str, Any], after: dict[str, Any], native: dict[str, Any]
) -> dict[str, Any]:
    """Print the native part against the mean of the direct runs before and after it (each one
    printed in full by ``direct_part``)."""
    direct_rate = (before["rate"] + after["rate"]) / 2
    ratio = native["rate"] / direct_rate
    # The two direct runs of one benchmark run differ by up to 15 % on the project's machine
    # (stops 27-30): the ratio against each of them is the band the one ratio is read in.
    band = sorted(native["rate"] / run["rate"] for run in (before, after))
    spread = abs(after["rate"] - before["rate"]) / direct_rate
    cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in native["cpu_s"].items())
    uploads, drain = native["phases"]["uploads"], native["phases"]["drain"]
    checks = ""  # a forwarder process of its own does not serve its metrics
    if native["checks_after_s"] is not None:
        checks = (
            f"  sampled checks went on {native['checks_after_s']:.1f} s after the last record "
            "was stored\n"
        )
    print(
        f"\n== native path, {native['records']} records = {native['resources']} resources\n"
        f"  direct to HAPI      before {before['rate']:.0f}, after {after['rate']:.0f}: "
        f"mean {direct_rate:6.0f} res/s\n"
        f"  gateway → STORED    {native['resources']:7d} res in {native['seconds']:7.1f} s = "
        f"{native['rate']:6.0f} res/s   (uploads took {native['upload_s']:.1f} s; "
        f"load {native['load']})\n"
        f"  CPU-s in the native part: {cpu}\n"
        f"  while the hospitals uploaded ({uploads['seconds']:.1f} s): "
        f"{busy(uploads['cpu_s'], uploads['seconds'])}\n"
        f"  after, to the last record stored ({drain['seconds']:.1f} s): "
        f"{busy(drain['cpu_s'], drain['seconds'])}\n"
        f"  requests to HAPI: {native['upstream_requests'] or 'see forward.log'}\n"
        f"{checks}"
        f"  ratio native / direct = {ratio:.3f}  (target ≥ 0.90);  "
        f"native {native['rate']:.0f} res/s (target ≥ 250)\n"
        f"  against each direct run {band[0]:.2f}–{band[1]:.2f} "
        f"(the direct runs differ by {spread:.0%})"
    )
    return {
        "direct_rate": direct_rate,
        "native_rate": native["rate"],
        "ratio": ratio,
        "ratio_band": band,
        "direct_spread": spread,
    }


def between_directs(
    stack: Stack,
    settings: Settings,
    native_settings: Settings,
    stays: int,
    counters: dict[str, Callable[[], float]],
) -> dict[str, Any]:
    """Direct, native, direct again; the ratio divides by the mean of the two direct runs: HAPI's
    JIT warms and its database grows in between (the first direct run of a fresh HAPI is the
    slowest of all, which flattered the native part when it was the only baseline)."""
    before = direct_part(settings, stays, counters)
    native = native_part(stack, native_settings, stays, counters)
    after = direct_part(settings, stays, counters)
    return {
        "direct_before": before,
        "direct_after": after,
        "native": native,
        "native_vs_direct": report_native(before, after, native),
    }


def pinned_part(stack: Stack, settings: Settings, stays: int, *, keep: bool) -> dict[str, Any]:
    """``between_directs`` with HAPI and its database on one core and the facade, its own
    database and the loaders on the other: each as if on its own machine."""
    print(
        "\n== pinned: HAPI and its PostgreSQL on one core; facade, its PostgreSQL, loaders on the other"
    )
    with pinned_layout(stack, keep=keep) as cluster:
        facade_settings = settings.model_copy(
            update={"database_url": cluster.url("facade", "facade", PASSWORD)}
        )
        return between_directs(
            stack, settings, facade_settings, stays, cpu_counters(stack, cluster)
        )


def main() -> None:
    parts = _env("VTE_BENCH_INGEST_PARTS", "direct,native").split(",")
    stays = int(_env("VTE_BENCH_INGEST_STAYS", "10000"))
    hapi_env = dict(
        item.split("=", 1) for item in _env("VTE_BENCH_HAPI_ENV", "").split(",") if item
    )
    keep = bool(_env("VTE_BENCH_KEEP", ""))
    stack = Stack()
    results: dict[str, Any] = {
        "stays": stays,
        "hapi_env": hapi_env,
        "parts": parts,
        "forwarder": FORWARDER,
        "serve_nice": SERVE_NICE,
        "warm_ups": WARM_UPS,
    }
    results["calibration_us"] = [calibration.report(FACADE_CORE)]
    try:
        settings = stack.start({"HAPI_VALIDATE_DECLARED_PROFILES": "true", **hapi_env})
        # What HAPI was started with, as the settings carry it.
        results["hapi_java_opts"] = settings.hapi_java_opts
        from bench.indicators import _load_ig

        print(
            f"HAPI on PostgreSQL at {settings.fhir_base_url} ({hapi_env or 'defaults'}; "
            f"java {settings.hapi_java_opts}); "
            f"guide: {asyncio_run(_load_ig(settings))} resources"
        )
        if "native" in parts:
            results["unpinned"] = between_directs(
                stack, settings, settings, stays, cpu_counters(stack)
            )
        elif "direct" in parts:
            results["direct"] = direct_part(settings, stays, cpu_counters(stack))
        if "pinned" in parts:
            if "native" not in parts and "direct" not in parts:
                # A new HAPI spends its first run compiling (89-93 CPU-s against 50-62 once
                # warm): without this the pinned ratio would divide by a cold "before" run.
                for run in range(WARM_UPS):
                    print(
                        f"(warm-up {run + 1}/{WARM_UPS} of a new HAPI: a direct run, not counted)"
                    )
                    results.setdefault("warm_up_runs", []).append(
                        direct_part(settings, stays, cpu_counters(stack))
                    )
            results["pinned"] = pinned_part(stack, settings, stays, keep=keep)
        if "fhir" in parts:
            bundles = int(_env("VTE_BENCH_INGEST_FHIR_BUNDLES", "200"))
            results["fhir"] = fhir_part(stack, settings, bundles)
            report_fhir(results["fhir"])
        if "scale" in parts:
            records = int(_env("VTE_BENCH_INGEST_SCALE_RECORDS", "10000"))
            baseline = _env("VTE_BENCH_SCALE_BASELINE", "1") != "0"
            results["scale"] = scale_part(stack, records, baseline=baseline)
            results["scale_ok"] = report_scale(results["scale"])
        results["calibration_us"].append(calibration.report(FACADE_CORE))
    finally:
        (STATE / "results.json").write_bytes(
            orjson.dumps(results, option=orjson.OPT_INDENT_2, default=str)
        )
        stack.stop(keep=keep)


if __name__ == "__main__":
    main()
