"""Benchmark: extracting a research cohort of 10,000 stays against HAPI's ``$export`` alone.

``python -m bench extract``: a throw-away PostgreSQL 15 cluster (port 55461) and the HAPI jar on
it (port VTE_BENCH_HAPI_PORT, default 8164, ``-Xmx2g``, write-time validation off), the guide
loaded, a synthetic region of VTE_BENCH_EXTRACT_STAYS (default 10,000) stays loaded with the
production mapping engine (bench/indicator_load.py). Then, in the same run, REPEATS times each:

* **facade**: one whole extraction of an approved request whose cohort is every stay discharged
  in 2026-Q1 with every variable (cohort selection, Group, ``$export``, download, research view,
  k-anonymity, NDJSON, ViewDefinition tables, OMOP tables, manifest), through the jobs code the
  worker runs;
* **baseline**: the same ``$export`` (same ``_type`` and ``_typeFilter`` values) kicked off with
  httpx, polled at the same interval, and every output Binary downloaded and discarded — what
  HAPI's bulk export costs a client that does nothing with the data.

Prints the medians and their ratio; raw figures go to var/bench-extract/results.json.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.indicator_load import DirectLoader
from bench.indicators import Postgres, _load_ig
from bench.settings import bench_settings, evaluation_stack
from facade.db import Database
from facade.frontdoor.context import FrontDoor
from facade.indicators.periods import parse_period
from facade.indicators.service import catalog
from facade.research import bulk, catalogue, jobs, lifecycle
from facade.research.lifecycle import Actor
from facade.research.models import DecisionIn, RequestIn
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-extract"
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8164"))
PERIOD = "2026-Q1"
REPEATS = int(os.environ.get("VTE_BENCH_REPEATS", "3"))


def _settings(jdbc: str) -> Settings:
    return bench_settings(
        STATE, HAPI_PORT, jdbc, upstream_max_connections=8, research_export_poll_seconds=1.0
    )


def _grant(settings: Settings, database: Database, orgs: list[str]) -> str:
    body = RequestIn.model_validate(
        {
            "project": "benchmark",
            "purpose": "extraction benchmark of a whole quarter",
            "ethicsApproval": "BENCH-1",
            "period": PERIOD,
            "cohort": {"indicator": "A1", "population": "initial-population", "orgs": orgs},
            "variables": sorted(catalogue.known_variables(settings)),
        }
    )
    request = lifecycle.submit(database, Actor("bench-researcher", "researcher"), body)
    lifecycle.decide(
        database,
        settings,
        catalog(settings).definitions,
        Actor("bench-steward", "admin"),
        request["id"],
        DecisionIn.model_validate({"decision": "approve", "reason": "benchmark"}),
    )
    return str(request["id"])


async def _facade(settings: Settings, database: Database, request_id: str) -> dict[str, Any]:
    queued = jobs.queue(database, Actor("bench-researcher", "researcher"), request_id)
    upstream = UpstreamClient(settings)
    try:
        job = jobs.claim(database)
        assert job is not None and job.id == queued["id"]
        started = time.perf_counter()
        result = await jobs.execute(settings, database, upstream, FrontDoor(settings), job)
        seconds = time.perf_counter() - started
    finally:
        await upstream.aclose()
    assert result["state"] == "done", result
    manifest = jobs.read(database, Actor("bench-researcher", "researcher"), queued["id"])[
        "manifest"
    ]
    return {"seconds": seconds, "manifest": manifest}


async def _baseline(settings: Settings, types: list[str], orgs: list[str]) -> dict[str, Any]:
    """Kick-off, poll and download the same export with a plain client."""
    span = parse_period(PERIOD, catalog(settings).definitions.rules.tz)
    params = {"_type": ",".join(types), "_typeFilter": bulk.cohort_filters(types, span, orgs)}
    async with httpx.AsyncClient(base_url=settings.fhir_base_url + "/", timeout=600) as http:
        started = time.perf_counter()
        kick = await http.get(
            "$export",
            params=params,
            headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
        )
        status = kick.headers["Content-Location"]
        while True:
            answer = await http.get(status)
            if answer.status_code == 200:
                break
            await asyncio.sleep(settings.research_export_poll_seconds)
        exported = time.perf_counter() - started
        size = 0
        for item in answer.json()["output"]:
            body = await http.get(item["url"], headers={"Accept": "application/fhir+ndjson"})
            size += len(body.content)
        return {"seconds": time.perf_counter() - started, "exportSeconds": exported, "bytes": size}


def main() -> None:
    stays = int(os.environ.get("VTE_BENCH_EXTRACT_STAYS", "10000"))
    postgres_dir = Path("/tmp/vte-bench-extract-pg")  # noqa: S108
    import bench.indicators as shared

    # A cluster of its own: set before Postgres() reads them.
    shared.PG_DIR, shared.PG_PORT = postgres_dir, 55461
    postgres = Postgres()
    jdbc = postgres.start(empty=True)
    settings = _settings(jdbc)
    database, launcher = evaluation_stack(settings)
    try:
        launcher.start()
        print(
            f"HAPI on PostgreSQL at {settings.fhir_base_url}; guide: {asyncio.run(_load_ig(settings))} resources"
        )
        region = generate(
            RegionSpec(seed=stays, hospitals=3, encounters=stays, run=f"bench-{time.time_ns()}")
        )
        load = asyncio.run(DirectLoader(settings).load(region))
        print(
            f"loaded {stays} stays: {load.resources} resources in {load.seconds:.0f} s", flush=True
        )
        request_id = _grant(settings, database, region.org_codes)
        facade_runs, baseline_runs = [], []
        for _ in range(REPEATS):
            run = asyncio.run(_facade(settings, database, request_id))
            facade_runs.append(run)
            manifest = run["manifest"]
            types = [t.split("/")[1] for t in manifest["counts"] if t.startswith("fhir/")]
            baseline_runs.append(asyncio.run(_baseline(settings, types, region.org_codes)))
            print(
                f"  facade {run['seconds']:.1f} s (HAPI export inside: "
                f"{manifest['source']['exportSeconds']:.1f} s), "
                f"baseline {baseline_runs[-1]['seconds']:.1f} s",
                flush=True,
            )
        facade = statistics.median(r["seconds"] for r in facade_runs)
        base = statistics.median(r["seconds"] for r in baseline_runs)
        last = facade_runs[-1]["manifest"]
        summary = {
            "stays": stays,
            "cohortStays": last["cohort"]["stays"],
            "released": last["cohort"]["staysReleased"],
            "resourcesExported": sum(last["source"]["resourcesExported"].values()),
            "facadeSeconds": facade,
            "baselineSeconds": base,
            "ratio": facade / base,
            "facadeRuns": [r["seconds"] for r in facade_runs],
            "baselineRuns": baseline_runs,
            "privacy": last["privacy"],
            "counts": last["counts"],
        }
        (STATE / "results.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        print(
            f"\nextract of {summary['cohortStays']} stays ({summary['resourcesExported']} resources exported): "
            f"facade {facade:.1f} s / $export alone {base:.1f} s = {facade / base:.2f}"
        )
    finally:
        if not os.environ.get("VTE_BENCH_KEEP"):
            launcher.stop()
            postgres.stop()
        database.dispose()
