"""Indicator benchmark (T5–T8 of performance-notes.md §6): ``python -m bench indicators``.

Starts its own PostgreSQL cluster and HAPI (port 8099, profile validation on write off: the
benchmark times indicator evaluation, not ingestion), loads the guide, then for each size loads a
synthetic region through the mapping engine and measures in the same run:

* the facade: the full indicator set, in its own process (peak RSS), median of 3 warm runs;
* baseline (a): the very count queries the engine sent, straight to HAPI, same concurrency;
* baseline (b): a plain client paging the very searches the engine streamed, discarding results.

Environment: VTE_BENCH_SIZES (default "10000,100000"), VTE_BENCH_MAX_LOAD_MINUTES (40: a size whose
projected load takes longer is replaced by VTE_BENCH_FALLBACK_SIZE, default 30000),
VTE_BENCH_BACKEND (postgres | h2), VTE_BENCH_KEEP=1 keeps HAPI and PostgreSQL running,
VTE_BENCH_REMEASURE=1 measures the regions a kept run loaded instead of loading new ones.
Every loading run starts from an empty HAPI database.
Results: printed, and written to var/bench-indicators/results.json.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.indicator_load import DirectLoader, LoadStats
from bench.pgcluster import PgCluster
from bench.settings import HAPI_DB_PASSWORD, HAPI_DB_USER, bench_settings
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-indicators"
# Outside the repository: the postgres user must reach it, and /tmp is what the HAPI README uses.
PG_DIR = Path("/tmp/vte-bench-indicators-pg")  # noqa: S108
PG_PORT = 55439
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8099"))
PERIOD = "2026-Q1"
REPEATS = 3
CONCURRENCY = 4


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class Postgres:
    """The benchmark's cluster: the shared throw-away cluster helper, tuned for bulk loading."""

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


def _settings(jdbc: str) -> Settings:
    return bench_settings(
        STATE,
        HAPI_PORT,
        jdbc,
        database_url=f"sqlite:///{STATE / 'unused.db'}",
        upstream_max_connections=8,
    )


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
            query: list[Any] | None = [tuple(p) for p in params]
            if kind == "count":
                query = [*query, ("_summary", "count")]
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
        return statistics.median(r[key] for r in runs)

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


def _report(size: int, load: Any, m: dict[str, Any]) -> None:
    t5 = m["count_path_s"] / m["count_direct_s"]
    t6 = m["join_path_s"] / m["paging_direct_s"]
    print(
        f"\n== {size} stays ({m['stays']} discharged in {PERIOD}); loaded {load.resources} resources "
        f"in {load.seconds:.0f} s = {load.rate:.0f} res/s ({load.bundles} transactions; mapping {load.mapping_seconds:.0f} s CPU)"
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


def _remember(size: int, hospitals: int, orgs: list[str], load: LoadStats) -> None:
    """Note a loaded region, so VTE_BENCH_REMEASURE=1 can measure it again without reloading."""
    path = STATE / "regions.json"
    known = orjson.loads(path.read_bytes()) if path.exists() else []
    known.append(
        {
            "size": size,
            "hospitals": hospitals,
            "orgs": orgs,
            "resources": load.resources,
            "seconds": load.seconds,
            "bundles": load.bundles,
            "mapping": load.mapping_seconds,
        }
    )
    path.write_bytes(orjson.dumps(known, option=orjson.OPT_INDENT_2))


def remeasure(settings: Settings, backend: str) -> list[dict[str, Any]]:
    """Measure the regions already loaded (HAPI and PostgreSQL kept from an earlier run)."""
    results = []
    for known in orjson.loads((STATE / "regions.json").read_bytes()):
        load = LoadStats(
            resources=known["resources"],
            seconds=known["seconds"],
            bundles=known["bundles"],
            mapping_seconds=known["mapping"],
        )
        measured = _measure(settings.fhir_base_url, known["orgs"])
        _report(known["size"], load, measured)
        results.append(
            {
                "size": known["size"],
                "hospitals": known["hospitals"],
                "backend": backend,
                "load": {"resources": load.resources, "seconds": load.seconds, "rate": load.rate},
                **measured,
            }
        )
    return results


def main() -> None:
    sizes = [int(s) for s in _env("VTE_BENCH_SIZES", "10000,100000").split(",") if s]
    max_minutes = float(_env("VTE_BENCH_MAX_LOAD_MINUTES", "40"))
    fallback = int(_env("VTE_BENCH_FALLBACK_SIZE", "30000"))
    backend = _env("VTE_BENCH_BACKEND", "postgres")
    again = bool(_env("VTE_BENCH_REMEASURE", ""))
    postgres = Postgres() if backend == "postgres" else None
    jdbc = postgres.start(empty=not again) if postgres else ""
    settings = _settings(jdbc)
    launcher = HapiLauncher(settings)
    if not again:
        (STATE / "regions.json").unlink(missing_ok=True)
        if not postgres:
            shutil.rmtree(settings.hapi_state_dir / "h2", ignore_errors=True)
    if launcher.jar_is_stale():
        raise SystemExit("the HAPI jar is missing or stale: run `vte-facade hapi build` first")
    os.environ.update({"HAPI_VALIDATE_DECLARED_PROFILES": "false", "HAPI_REQUEST_LOG": "false"})
    results: list[dict[str, Any]] = []
    try:
        launcher.start()
        print(
            f"HAPI on {backend} at {settings.fhir_base_url}; guide: {asyncio.run(_load_ig(settings))} resources"
        )
        rate: float | None = None
        if again:
            results = remeasure(settings, backend)
            sizes = []
        for size in sizes:
            if rate:
                projected = size * 8.5 / rate / 60
                if projected > max_minutes:
                    print(
                        f"\n{size} stays would take ≈{projected:.0f} min to load at {rate:.0f} res/s "
                        f"(limit {max_minutes:.0f} min): measuring {fallback} instead"
                    )
                    size = fallback
            hospitals = max(3, min(20, size // 5000))
            region = generate(
                RegionSpec(
                    seed=size, hospitals=hospitals, encounters=size, run=f"bench-{time.time_ns()}"
                )
            )
            load = asyncio.run(DirectLoader(settings).load(region))
            rate = load.rate
            _remember(size, hospitals, region.org_codes, load)
            measured = _measure(settings.fhir_base_url, region.org_codes)
            _report(size, load, measured)
            results.append(
                {
                    "size": size,
                    "hospitals": hospitals,
                    "backend": backend,
                    "load": {
                        "resources": load.resources,
                        "seconds": load.seconds,
                        "rate": load.rate,
                    },
                    **measured,
                }
            )
        if len(results) >= 2:
            small, large = results[0], results[-1]
            print(
                f"\nscaling {large['size']}/{small['size']} stays: total ×{large['total_s'] / small['total_s']:.1f}, "
                f"count path ×{large['count_path_s'] / small['count_path_s']:.1f}, "
                f"join path ×{large['join_path_s'] / small['join_path_s']:.1f}  (T7: ≤ 12 for 10×)"
            )
    finally:
        (STATE / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
        if not _env("VTE_BENCH_KEEP", ""):
            launcher.stop()
            if postgres:
                postgres.stop()


if __name__ == "__main__":
    main()
