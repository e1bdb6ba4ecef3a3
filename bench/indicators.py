"""Indicator benchmark (T5–T8 of performance-notes.md §6): ``python -m bench indicators``.

Starts its own PostgreSQL cluster and HAPI on it with the production write settings (validation
of declared profiles on, the facade's trusted-write key set), loads the guide, then for each size
loads a synthetic region through the product's native gateway (bench/gateway_load.py: hospitals
registered, signed HMAC-SM3 batches to ``vte-facade serve``, its forwarder writing to HAPI, every
receipt STORED) and measures in the same run:

* the facade: the full indicator set, in its own process (peak RSS), median of 3 warm runs;
* baseline (a): the very count queries the engine sent, straight to HAPI, same concurrency;
* baseline (b): a plain client paging the very searches the engine streamed, discarding results.

Environment: VTE_BENCH_SIZES (default "10000,100000"), VTE_BENCH_MAX_LOAD_MINUTES (40: a size whose
projected load takes longer is replaced by VTE_BENCH_FALLBACK_SIZE, default 30000),
VTE_BENCH_KEEP=1 keeps HAPI and PostgreSQL running, VTE_BENCH_REMEASURE=1 measures the regions a
kept run loaded instead of loading new ones; VTE_BENCH_PG_PORT (55439), VTE_BENCH_HAPI_PORT
(8099), VTE_BENCH_FACADE_PORT (8100) and VTE_BENCH_PG_DIR (/tmp/vte-bench-indicators-pg) move
the run beside another one. Every loading run starts from an empty cluster.
Results: printed, and written to var/bench-indicators/results.json.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.gateway_load import facade_settings, load_through_gateway
from bench.ingest_stack import PG_OPTIONS, LoadMeter, Stack
from bench.pgcluster import PgCluster
from bench.settings import HAPI_DB_PASSWORD, HAPI_DB_USER
from facade.ig.loader import load_ig
from facade.indicators.service import catalog
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.synth.truth import expected
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-indicators"
# Outside the repository: the postgres user must reach it, and /tmp is what the HAPI README uses.
PG_DIR = Path(os.environ.get("VTE_BENCH_PG_DIR", "/tmp/vte-bench-indicators-pg"))  # noqa: S108
PG_PORT = int(os.environ.get("VTE_BENCH_PG_PORT", "55439"))
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8099"))
FACADE_PORT = int(os.environ.get("VTE_BENCH_FACADE_PORT", "8100"))
PERIOD = "2026-Q1"
REPEATS = 3
CONCURRENCY = 4


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class Postgres:
    """A cluster with HAPI's database alone, tuned for bulk loading (``bench extract`` runs on
    it; this benchmark runs the ingest benchmark's stack, which adds the facade databases)."""

    def __init__(self) -> None:
        self.cluster = PgCluster(
            PG_DIR, PG_PORT, options="-c shared_buffers=512MB -c synchronous_commit=off"
        )

    def start(self, *, empty: bool) -> str:
        """Start the cluster; ``empty`` drops what an earlier run loaded."""
        if self.cluster.start(empty=empty):
            self.cluster.create_database("hapi", HAPI_DB_USER, HAPI_DB_PASSWORD)
        return self.cluster.jdbc("hapi")

    def stop(self) -> None:
        self.cluster.stop()


async def _load_ig(settings: Settings) -> int:
    upstream = UpstreamClient(settings)
    try:
        return (await load_ig(upstream, REPO / "profiles" / "fsh-generated" / "resources")).total
    finally:
        await upstream.aclose()


def _probe(base: str, orgs: list[str]) -> dict[str, Any]:
    """The engine in a fresh process: one warm-up run, then REPEATS measured runs."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.indicator_probe",
            base,
            PERIOD,
            ",".join(orgs),
            str(REPEATS + 1),
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    result: dict[str, Any] = orjson.loads(completed.stdout)
    result["searches"] = result["runs"][0]["searches"]
    result["runs"] = result["runs"][1:]
    return result


async def _replay_counts(base: str, searches: list[Any]) -> float:
    """Baseline (a): the engine's count queries, straight to HAPI, same concurrency."""
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base + "/", timeout=600) as http:

        async def one(rtype: str, params: list[Any]) -> None:
            async with gate:
                response = await http.get(
                    rtype, params=[*map(tuple, params), ("_summary", "count")]
                )
                response.raise_for_status()
                orjson.loads(response.content)["total"]

        started = time.perf_counter()
        await asyncio.gather(
            *(one(rtype, params) for phase, kind, rtype, params in searches if phase == "count")
        )
        return time.perf_counter() - started


async def _replay_join(base: str, searches: list[Any]) -> float:
    """Baseline (b): the engine's join-path searches in the engine's order — partition sizes,
    then per partition the census and its fact streams (concurrently), the attribution look-ups
    one after the other — paging through every result and discarding it."""
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base + "/", timeout=600) as http:

        async def one(kind: str, rtype: str, params: list[Any]) -> None:
            url: str | None = rtype
            first = [tuple(p) for p in params]
            if kind == "count":
                first.append(("_summary", "count"))
            query: list[Any] | None = first
            while url:
                async with gate:
                    response = await http.get(url, params=query)
                response.raise_for_status()
                page = orjson.loads(response.content)
                url = next(
                    (link["url"] for link in page.get("link", []) if link["relation"] == "next"),
                    None,
                )
                query = None

        started = time.perf_counter()
        batch: list[Any] = []
        for phase, kind, rtype, params in [s for s in searches if s[0] != "count"]:
            if phase in ("facts", "partitions") and (not batch or batch[0][0] == phase):
                batch.append((phase, kind, rtype, params))
                continue
            await asyncio.gather(*(one(k, r, p) for _, k, r, p in batch))
            batch = []
            if phase in ("facts", "partitions"):
                batch.append((phase, kind, rtype, params))
            else:
                await one(kind, rtype, params)
        await asyncio.gather(*(one(k, r, p) for _, k, r, p in batch))
        return time.perf_counter() - started


def _measure(base: str, orgs: list[str]) -> dict[str, Any]:
    probe = _probe(base, orgs)
    searches = probe.pop("searches")
    count_direct = [asyncio.run(_replay_counts(base, searches)) for _ in range(REPEATS)]
    page_direct = [asyncio.run(_replay_join(base, searches)) for _ in range(REPEATS)]
    runs = probe["runs"]

    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    join_path = med("join")
    return {
        "total_s": med("total"),
        "count_path_s": med("count"),
        "join_path_s": join_path,
        "count_direct_s": statistics.median(count_direct),
        "paging_direct_s": statistics.median(page_direct),
        "count_queries": runs[0]["counts"],
        "pages": runs[0]["pages"],
        "resources_streamed": runs[0]["resources"],
        "stays": runs[0]["stays"],
        "idle_rss_mib": probe["idle_rss_mib"],
        "peak_rss_mib": probe["peak_rss_mib"],
        "region": runs[0]["numerators"],
    }


def _report(size: int, load: dict[str, Any], m: dict[str, Any]) -> None:
    t5 = m["count_path_s"] / m["count_direct_s"]
    t6 = m["join_path_s"] / m["paging_direct_s"]
    print(
        f"\n== {size} stays ({m['stays']} discharged in {PERIOD}); loaded through the gateway: "
        f"{load['records']} records → {load['versions']} resource versions "
        f"({load['resources']} resources) in {load['seconds']:.0f} s = {load['rate']:.0f} res/s, "
        f"{load['record_rate']:.0f} records/s (uploads {load['upload_seconds']:.0f} s; "
        f"machine load {load['machine_load']})"
    )
    print(f"  full indicator set (12, all strata)   {m['total_s']:8.2f} s   (median of {REPEATS})")
    print(
        f"  count path  {m['count_queries']:5d} queries        {m['count_path_s']:8.2f} s   direct to HAPI {m['count_direct_s']:8.2f} s"
        f"   ratio {t5:5.2f}  (T5 target ≤ 1.1 + 20 ms)"
    )
    print(
        f"  join path   {m['pages']:5d} pages, {m['resources_streamed']} resources {m['join_path_s']:8.2f} s"
        f"   plain paging   {m['paging_direct_s']:8.2f} s   ratio {t6:5.2f}  (T6 target ≤ 1.3)"
    )
    print(
        f"  facade RSS  idle {m['idle_rss_mib']:.0f} MiB, peak {m['peak_rss_mib']:.0f} MiB  ratio "
        f"{m['peak_rss_mib'] / m['idle_rss_mib']:.2f}  (T8 target ≤ 1.5 at N = 1M)"
    )
    print(f"  machine load while measuring {m['machine_load']}")


def _remember(size: int, hospitals: int, orgs: list[str], load: dict[str, Any]) -> None:
    """Note a loaded region, so VTE_BENCH_REMEASURE=1 can measure it again without reloading."""
    path = STATE / "regions.json"
    known = orjson.loads(path.read_bytes()) if path.exists() else []
    known.append({"size": size, "hospitals": hospitals, "orgs": orgs, "load": load})
    path.write_bytes(orjson.dumps(known, option=orjson.OPT_INDENT_2))


def _measured(size: int, hospitals: int, orgs: list[str], load: dict[str, Any]) -> dict[str, Any]:
    """Measure one loaded region, print it, and return its results entry."""
    with LoadMeter() as meter:
        measured = _measure(f"http://127.0.0.1:{HAPI_PORT}/fhir", orgs)
    measured["machine_load"] = meter.text
    _report(size, load, measured)
    return {"size": size, "hospitals": hospitals, "load": load, **measured}


def _load(stack: Stack, index: int, size: int) -> dict[str, Any]:
    """Generate a region of ``size`` stays and load it through the gateway (a facade database
    of its own); returns its results entry once measured."""
    hospitals = max(3, min(20, size // 5000))
    region = generate(
        RegionSpec(seed=size, hospitals=hospitals, encounters=size, run=f"bench-{time.time_ns()}")
    )
    print(f"\n{size} stays, {hospitals} hospitals: loading through the gateway", flush=True)
    settings = facade_settings(stack, f"region{index + 1}")
    loaded = load_through_gateway(stack, settings, region)
    load = {"stays": size, **loaded.as_dict()}
    orgs = region.org_codes
    # The generator's own answer, computed from its records without HAPI or the engine.
    truth = expected(region.records(), catalog(settings).definitions, PERIOD)
    del region  # the measurement runs in its own process; the region is not needed any more
    _remember(size, hospitals, orgs, load)
    entry = _measured(size, hospitals, orgs, load)
    entry["ground_truth"] = {key: result.region.populations for key, result in truth.items()}
    entry["equals_ground_truth"] = entry["region"] == entry["ground_truth"]
    print(
        "  region populations of every indicator equal the generator's ground truth: "
        + ("yes" if entry["equals_ground_truth"] else "NO (see results.json)")
    )
    return entry


def main() -> None:
    sizes = [int(s) for s in _env("VTE_BENCH_SIZES", "10000,100000").split(",") if s]
    max_minutes = float(_env("VTE_BENCH_MAX_LOAD_MINUTES", "40"))
    fallback = int(_env("VTE_BENCH_FALLBACK_SIZE", "30000"))
    again = bool(_env("VTE_BENCH_REMEASURE", ""))
    stack = Stack(
        cluster=PgCluster(PG_DIR, PG_PORT, options=PG_OPTIONS),
        state=STATE,
        hapi_port=HAPI_PORT,
        facade_port=FACADE_PORT,
    )
    results: list[dict[str, Any]] = []
    try:
        # Production write settings: the forwarder's mapped writes carry the trusted-write key
        # and skip HAPI's validator; any other writer's resources are validated against the
        # profiles they declare. Indicator evaluation only searches, so it needs neither.
        settings = stack.start({"HAPI_VALIDATE_DECLARED_PROFILES": "true"}, empty=not again)
        print(
            f"HAPI on PostgreSQL at {settings.fhir_base_url} (declared profiles validated, "
            f"trusted-write key set); guide: {asyncio.run(_load_ig(settings))} resources"
        )
        if again:
            for known in orjson.loads((STATE / "regions.json").read_bytes()):
                results.append(
                    _measured(known["size"], known["hospitals"], known["orgs"], known["load"])
                )
            sizes = []
        seconds_per_stay: float | None = None
        for index, size in enumerate(sizes):
            if seconds_per_stay:
                projected = size * seconds_per_stay / 60
                if projected > max_minutes:
                    print(
                        f"\n{size} stays would take ≈{projected:.0f} min to load at the measured "
                        f"{1 / seconds_per_stay:.1f} stays/s (limit {max_minutes:.0f} min): "
                        f"measuring {fallback} instead"
                    )
                    size = fallback
            results.append(_load(stack, index, size))
            seconds_per_stay = results[-1]["load"]["seconds"] / size
        if len(results) >= 2:
            small, large = results[0], results[-1]
            print(
                f"\nscaling {large['size']}/{small['size']} stays: total ×{large['total_s'] / small['total_s']:.1f}, "
                f"count path ×{large['count_path_s'] / small['count_path_s']:.1f}, "
                f"join path ×{large['join_path_s'] / small['join_path_s']:.1f}  (T7: ≤ 12 for 10×)"
            )
    finally:
        STATE.mkdir(parents=True, exist_ok=True)
        (STATE / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
        stack.stop(keep=bool(_env("VTE_BENCH_KEEP", "")))


if __name__ == "__main__":
    main()
