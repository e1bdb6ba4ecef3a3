"""Incremental indicator refresh benchmark: ``python -m bench refresh``.

Starts its own PostgreSQL cluster (port 55640, /tmp/vte-incr-pg) and HAPI (port 8640, profile
validation on write off, as in the indicator benchmark), loads a synthetic region through the
mapping engine (bench.indicator_load), then in one run:

1. seeds the stay ledger (a refresh job's first run: full pass, reports published);
2. changes 1 % of the stays discharged in the period, round-robin over every hospital, with the
   writes a hospital's corrected upload makes: the corrected records re-mapped by the mapping
   engine and stored by transaction (half move the stay to another discharge department, i.e.
   the case record; half turn the prophylaxis orders to "not done", i.e. the order records);
3. times the incremental refresh + publish (a refresh job with the ledger);
4. times the full recompute + publish the way a refresh job does it without the ledger
   (``engine.evaluate`` + one publishing transaction), REPEATS times, median;
5. checks every indicator, hospital and stratum of the incremental run equals the full run.

Environment: VTE_BENCH_REFRESH_STAYS (default 10000), VTE_BENCH_REFRESH_SHARE (0.01),
VTE_BENCH_REFRESH_HOSPITALS (default max(5, min(20, stays // 5000))),
VTE_BENCH_REFRESH_REPEATS (full recomputes timed, median; 2), VTE_BENCH_KEEP=1 keeps
HAPI and PostgreSQL running; VTE_BENCH_PG_DIR, VTE_BENCH_PG_PORT and VTE_BENCH_HAPI_PORT (the
facade's port is the next one) place the run, so that two can share a machine. Results: printed, and written to var/bench-refresh/results.json.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson

from bench.indicator_load import DirectLoader, _bundle
from bench.pgcluster import PgCluster
from bench.settings import (
    HAPI_DB_PASSWORD,
    HAPI_DB_USER,
    bench_settings,
    evaluation_stack,
    load_guide,
)
from facade.db import Database
from facade.indicators.engine import Evaluation
from facade.indicators.service import evaluate_and_publish
from facade.settings import Settings
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.records import Stay, stay_records
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-refresh"
PG_DIR = Path(os.environ.get("VTE_BENCH_PG_DIR", "/tmp/vte-incr-pg"))  # noqa: S108 - postgres must reach it
PG_PORT = int(os.environ.get("VTE_BENCH_PG_PORT", "55640"))
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8640"))
PERIOD = "2026-Q1"
REPEATS = int(os.environ.get("VTE_BENCH_REFRESH_REPEATS", "2"))  # full recomputes timed
# The test writes of this run land long after the load; a short margin keeps the load's tail
# out of the first refresh (production keeps the default, 120 s).
MARGIN_SECONDS = 10.0


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _settings(jdbc: str) -> Settings:
    return bench_settings(
        STATE,
        HAPI_PORT,
        jdbc,
        port=HAPI_PORT + 1,
        upstream_max_connections=8,
        indicator_incremental_margin_seconds=MARGIN_SECONDS,
    )


def _chosen(region: Region, share: float) -> list[Stay]:
    """``share`` of the stays discharged in the period, taken round-robin over the hospitals."""
    start, end = region.period.start.replace(tzinfo=None), region.period.end.replace(tzinfo=None)
    by_org: dict[str, list[Stay]] = {}
    for stay in region.stays:
        if stay.discharged is not None and start <= stay.discharged < end and not stay.label:
            by_org.setdefault(stay.hospital.org_code, []).append(stay)
    wanted = max(len(by_org), round(share * sum(len(v) for v in by_org.values())))
    queues = [list(v) for _, v in sorted(by_org.items())]
    out: list[Stay] = []
    while len(out) < wanted and any(queues):
        for queue in queues:
            if queue and len(out) < wanted:
                out.append(queue.pop(len(queue) // 2))
    return out


def _change(stays: list[Stay]) -> dict[str, str]:
    """Correct the stays in place; returns the record type each correction re-sends, per case."""
    kinds: dict[str, str] = {}
    for n, stay in enumerate(stays):
        others = [d for d in stay.hospital.departments if d != stay.department]
        if n % 2 == 0 and others:
            stay.department = others[0]
            kinds[stay.case_id + stay.hospital.org_code] = "case"
        else:
            stay.measures = [
                dataclasses.replace(m, status="4", started=None, ended=None) for m in stay.measures
            ]
            kinds[stay.case_id + stay.hospital.org_code] = "prophylaxis"
    return kinds


async def _write_changes(
    loader: DirectLoader, stays: list[Stay], kinds: dict[str, str]
) -> tuple[int, float]:
    """The corrected records, mapped and stored as a hospital's upload would be (one transaction
    per stay, four in flight); returns (resources written, seconds)."""
    started = time.perf_counter()
    bundles = []
    for stay in stays:
        org = stay.hospital.org_code
        kind = kinds[stay.case_id + org]
        entries = [e for r in stay_records(stay)[kind] for e in loader._entries(org, kind, r)]
        if entries:
            bundles.append(entries)
    upstream = UpstreamClient(loader.settings)
    try:
        gate = asyncio.Semaphore(4)

        async def send(entries: list[dict[str, Any]]) -> None:
            async with gate:
                await upstream.transaction(_bundle(entries))

        await asyncio.gather(*(send(b) for b in bundles))
    finally:
        await upstream.aclose()
    return sum(len(b) for b in bundles), time.perf_counter() - started


async def _job(
    settings: Settings, orgs: list[str], database: Database | None
) -> tuple[Evaluation, float]:
    """One refresh job as IndicatorRefresher runs it: evaluate (or refresh) and publish."""
    upstream = UpstreamClient(settings)
    started = time.perf_counter()
    try:
        run, _ = await evaluate_and_publish(
            settings, upstream, PERIOD, region=orgs, database=database
        )
    finally:
        await upstream.aclose()
    return run, time.perf_counter() - started


def _results(run: Evaluation) -> dict[str, Any]:
    return {i: r.as_dict() for i, r in run.results.items()}


def main() -> None:
    size = int(_env("VTE_BENCH_REFRESH_STAYS", "10000"))
    share = float(_env("VTE_BENCH_REFRESH_SHARE", "0.01"))
    hospitals = int(_env("VTE_BENCH_REFRESH_HOSPITALS", str(max(5, min(20, size // 5000)))))
    cluster = PgCluster(
        PG_DIR, PG_PORT, options="-c shared_buffers=512MB -c synchronous_commit=off"
    )
    cluster.start(empty=True)
    cluster.create_database("hapi", HAPI_DB_USER, HAPI_DB_PASSWORD)
    settings = _settings(cluster.jdbc("hapi"))
    database, launcher = evaluation_stack(settings)
    out: dict[str, Any] = {"stays": size, "hospitals": hospitals, "share": share}
    try:
        launcher.start()
        print(
            f"HAPI on PostgreSQL at {settings.fhir_base_url}; guide: {asyncio.run(load_guide(settings))} resources"
        )
        region = generate(
            RegionSpec(
                seed=size, hospitals=hospitals, encounters=size, run=f"refresh-{time.time_ns()}"
            )
        )
        orgs = region.org_codes
        loader = DirectLoader(settings)
        load = asyncio.run(loader.load(region))
        print(
            f"loaded {load.stays} stays, {load.resources} resources in {load.seconds:.0f} s ({load.rate:.0f} res/s)"
        )
        out["load"] = {"resources": load.resources, "seconds": round(load.seconds, 1)}
        out["uptime_before"] = _uptime()
        time.sleep(MARGIN_SECONDS + 1)  # the load's last writes behind the seed's margin

        seeded, seed_s = asyncio.run(_job(settings, orgs, database))
        assert seeded.ledger is not None and seeded.ledger.mode == "full"
        print(
            f"seed (first ledger job, full pass + publish): {seed_s:.1f} s, {seeded.ledger.stays} stays"
        )
        time.sleep(MARGIN_SECONDS + 1)  # the seeding pass's margin behind us

        chosen = _chosen(region, share)
        kinds = _change(chosen)
        written, write_s = asyncio.run(_write_changes(loader, chosen, kinds))
        touched = sorted({s.hospital.org_code for s in chosen})
        print(
            f"changed {len(chosen)} stays ({sorted(kinds.values()).count('case')} departments, "
            f"{sorted(kinds.values()).count('prophylaxis')} prophylaxis) in {len(touched)}/{len(orgs)} hospitals: "
            f"{written} resources written in {write_s:.1f} s"
        )
        time.sleep(1)

        incremental, incr_s = asyncio.run(_job(settings, orgs, database))
        ledger = incremental.ledger
        assert ledger is not None
        print(
            f"incremental refresh + publish: {incr_s:.2f} s (of which publishing "
            f"{incr_s - incremental.stats.total_seconds:.2f} s) — {ledger.summary()}"
        )

        fulls = []
        full: Evaluation | None = None
        for n in range(REPEATS):
            full, seconds = asyncio.run(_job(settings, orgs, None))
            fulls.append(seconds)
            print(
                f"full recompute + publish #{n + 1}: {seconds:.1f} s (publishing "
                f"{seconds - full.stats.total_seconds:.2f} s)"
            )
        assert full is not None
        full_s = statistics.median(fulls)
        equal = _results(incremental) == _results(full)
        ratio = incr_s / full_s
        out["uptime_after"] = _uptime()
        out.update(
            {
                "seed_s": round(seed_s, 2),
                "changed_stays": len(chosen),
                "changed_hospitals": len(touched),
                "changes": {k: list(kinds.values()).count(k) for k in ("case", "prophylaxis")},
                "resources_written": written,
                "incremental_s": round(incr_s, 2),
                "incremental_publish_s": round(incr_s - incremental.stats.total_seconds, 2),
                "incremental": {
                    "mode": ledger.mode,
                    "reason": ledger.reason,
                    "history_resources": ledger.changes,
                    "people": ledger.people,
                    "stays_reread": ledger.stays_reread,
                    "requests": ledger.requests,
                },
                "full_s": [round(s, 2) for s in fulls],
                "full_median_s": round(full_s, 2),
                "ratio": round(ratio, 4),
                "equal_to_full": equal,
            }
        )
        print(
            f"\nincremental / full = {incr_s:.2f} / {full_s:.1f} s = {ratio:.3f} "
            f"(target ≤ 0.10); results equal to the full run: {equal}"
        )
        print(f"load: {out['uptime_before']} → {out['uptime_after']}")
        if not equal or ledger.mode != "incremental":
            raise SystemExit("the incremental refresh did not match the full recompute")
    finally:
        STATE.mkdir(parents=True, exist_ok=True)
        (STATE / "results.json").write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
        if not _env("VTE_BENCH_KEEP", ""):
            launcher.stop()
            cluster.stop()
        database.dispose()


if __name__ == "__main__":
    main()
