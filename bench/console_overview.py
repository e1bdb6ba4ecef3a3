"""Console benchmark: server time of the Indicators page for a region of 100,000 stays.

``python -m bench console``. The page reads stored MeasureReports only (it never recomputes), so
its cost depends on the size of the reports, not on the stays behind them. The benchmark
therefore synthesises the results of a 100,000-stay region — 20 hospitals of 5,000 stays, 25
discharge departments each, 3 months — as IndicatorResult objects with random but consistent
counts, turns them into MeasureReports with the production ``build_report`` and stores them in
a real HAPI (the region's 12 reports for each of 8 quarters, so the trend is full). It does not
load 100,000 stays into HAPI: that is what ``python -m bench indicators`` measures.

Measured in the same run, in-process (FastAPI TestClient, so the time is the server's):

* the first view after start-up, when the console's report cache is empty and the reports are
  read in full, against a baseline of the same searches straight to HAPI with httpx;
* the page view: ``GET /console/indicators`` for the region (hospital bars, 500 department
  strata, trend), median of 7, when the console's report cache only asks HAPI whether the
  reports changed (every view after the first; a recompute from the console warms the cache),
  against the same two counting searches straight to HAPI.

Environment: VTE_BENCH_CONSOLE_HAPI_PORT (8097; a fresh H2 HAPI is started there), or
VTE_BENCH_CONSOLE_FHIR_BASE_URL to use a HAPI already running (with VTE_BENCH_CONSOLE_REUSE=1,
the reports a previous run stored there are measured again, not stored anew). Results: var/bench-console/results.json.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient

from facade.app import create_app
from facade.console.sessions import SessionStore
from facade.console.users import UserStore
from facade.console.web import session_cookie
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.indicators.periods import parse_period
from facade.indicators.report import (
    REPORT_IDENTIFIER_SYSTEM,
    build_report,
    publish_reports,
    region_key,
    report_identifier,
)
from facade.indicators.results import IndicatorResult, ScopeResult
from facade.indicators.schedule import periods_ending
from facade.indicators.service import catalog
from facade.native import orgs
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-console"
HOSPITALS, STAYS_PER_HOSPITAL, DEPARTMENTS = 20, 5_000, 25
MONTHS = ("2026-01", "2026-02", "2026-03")
PERIOD = "2026-Q1"
REPEATS = 7


def _counts(rng: random.Random, stays: int, codes: list[str]) -> dict[str, int]:
    initial = stays
    denominator = int(initial * rng.uniform(0.3, 1.0))
    excluded = int(denominator * rng.uniform(0, 0.05)) if "denominator-exclusion" in codes else 0
    numerator = int((denominator - excluded) * rng.uniform(0.4, 0.98))
    values = {
        "initial-population": initial,
        "denominator": denominator,
        "denominator-exclusion": excluded,
        "numerator": numerator,
    }
    return {code: values[code] for code in codes}


def synthetic_result(indicator: Any, org_codes: list[str], rng: random.Random) -> IndicatorResult:
    """Results of one indicator for a 100,000-stay region (counts summed up from departments)."""
    codes = [c.value for c in indicator.codes]
    orgs_out: dict[str, ScopeResult] = {}
    region_strata: dict[str, dict[str, dict[str, int]]] = {
        "hospital": {},
        "discharge-department": {},
        "discharge-month": {},
    }
    region = dict.fromkeys(codes, 0)
    for org in org_codes:
        departments = {
            f"{org}/D{d:02d}": _counts(rng, STAYS_PER_HOSPITAL // DEPARTMENTS, codes)
            for d in range(DEPARTMENTS)
        }
        total = dict.fromkeys(codes, 0)
        for counts in departments.values():
            for code in codes:
                total[code] += counts[code]
        months = {
            m: {c: total[c] // 3 + (i < total[c] % 3) for c in codes} for i, m in enumerate(MONTHS)
        }
        orgs_out[org] = ScopeResult(
            total, {"discharge-department": departments, "discharge-month": months}
        )
        region_strata["hospital"][org] = total
        region_strata["discharge-department"].update(departments)
        for month, counts in months.items():
            merged = region_strata["discharge-month"].setdefault(month, dict.fromkeys(codes, 0))
            for code in codes:
                merged[code] += counts[code]
        for code in codes:
            region[code] += total[code]
    return IndicatorResult(indicator.id, PERIOD, ScopeResult(region, region_strata), orgs_out)


def org_code(n: int) -> str:
    """A valid unified social credit code for bench hospital ``n``."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    first = f"12320100BENCH{n:03d}M"[:17]
    total = sum(alphabet.index(c) * w for c, w in zip(first, weights, strict=True))
    return first + alphabet[(31 - total % 31) % 31]


async def publish(settings: Settings, org_codes: list[str]) -> dict[str, Any]:
    """Store the region's reports for the 8 quarters ending with PERIOD; returns sizes."""
    definitions = catalog(settings).definitions
    key = region_key(org_codes)
    upstream = UpstreamClient(settings)
    sizes = []
    try:
        for offset, period in enumerate(periods_ending(PERIOD, 8, definitions.rules.tz)):
            span = parse_period(period, definitions.rules.tz)
            rng = random.Random(offset)
            for indicator in definitions.indicators.values():
                result = synthetic_result(indicator, org_codes, rng)
                report = build_report(indicator, result, span, org=None, region=key)
                sizes.append(len(orjson.dumps(report)))
                if not os.environ.get("VTE_BENCH_CONSOLE_REUSE"):
                    await publish_reports(upstream, [report])
    finally:
        await upstream.aclose()
    return {"reports": len(sizes), "largestReportBytes": max(sizes)}


def _searches(settings: Settings, org_codes: list[str]) -> tuple[list[str], list[str]]:
    """The identifiers the page asks about: the period probe, and the page's reports."""
    definitions = catalog(settings).definitions
    tz = definitions.rules.tz
    key = region_key(org_codes)
    first = next(iter(definitions.indicators.values()))
    candidates = periods_ending(PERIOD, 8, tz)
    probe = [report_identifier(first, parse_period(p, tz), key) for p in candidates]
    wanted = {
        report_identifier(i, parse_period(PERIOD, tz), key) for i in definitions.indicators.values()
    }
    wanted |= set(probe)
    return probe, sorted(wanted)


def baseline(settings: Settings, org_codes: list[str], *, full: bool) -> float:
    """The page's MeasureReport searches straight to HAPI: with ``full`` the reads of a first view
    (the period probe, then the page's other reports, in full), else the two counting questions
    every later view asks (changed since the last read?)."""
    probe, wanted = _searches(settings, org_codes)
    rest = [v for v in wanted if v not in probe]
    since = datetime.now(UTC).isoformat(timespec="milliseconds")
    started = time.perf_counter()
    with httpx.Client(timeout=120) as http:
        for chunk in (probe, rest) if full else (probe, wanted):
            params = {
                "identifier": ",".join(f"{REPORT_IDENTIFIER_SYSTEM}|{v}" for v in chunk),
                "_count": str(len(chunk)),
            }
            if not full:
                params |= {"_lastUpdated": f"ge{since}", "_summary": "count"}
            response = http.get(f"{settings.fhir_base_url}/MeasureReport", params=params)
            response.raise_for_status()
            response.json()
    return time.perf_counter() - started


def main() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("VTE_BENCH_CONSOLE_HAPI_PORT", "8097"))
    external = os.environ.get("VTE_BENCH_CONSOLE_FHIR_BASE_URL", "").rstrip("/")
    settings = ensure_secrets(
        Settings(
            environment="test",
            var_dir=STATE,
            hapi_port=port,
            fhir_base_url=external or f"http://127.0.0.1:{port}/fhir",
            database_url=f"sqlite:///{STATE / 'facade.db'}",
            hapi_start_timeout_seconds=1200,
            indicator_refresh_times=[],
        )
    )
    if external:
        run(settings)
        return
    launcher = HapiLauncher(settings)
    launcher.stop()
    for stale in (launcher.state_dir / "h2").glob("*"):
        stale.unlink()
    launcher.start()
    try:
        run(settings)
    finally:
        launcher.stop()


def run(settings: Settings) -> None:
    """Publish the synthetic reports and time the page against the baseline."""
    org_codes = [org_code(n) for n in range(HOSPITALS)]
    settings = settings.model_copy(update={"indicator_region": org_codes})

    async def load() -> None:
        upstream = UpstreamClient(settings)
        try:
            await load_ig(upstream, REPO / "profiles" / "fsh-generated" / "resources")
        finally:
            await upstream.aclose()

    asyncio.run(load())
    published = asyncio.run(publish(settings, org_codes))
    database = Database(settings.database_url)
    database.upgrade()
    with database.session() as session:
        for n, code in enumerate(org_codes):
            if orgs.find_org(session, code) is None:
                orgs.add_org(session, code, f"基准医院{n:02d}", grade="31", fhir_id=str(n))
    users = UserStore(settings, database)
    user = (
        next((u for u in users.list() if u.username == "bench-qc"), None)
        or users.add("bench-qc", role="qc").user
    )
    token = SessionStore(settings, database).start(user.id, "active")
    url = f"/console/indicators?period={PERIOD}&indicator=A1"
    with TestClient(create_app(settings, database=database, record_processor=None)) as client:
        client.cookies.set(session_cookie(settings), token)
        started = time.perf_counter()
        first = client.get(url)
        cold = time.perf_counter() - started
        assert first.status_code == 200, first.text[:500]
        assert "chart-hospitals" in first.text
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            answer = client.get(url)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200
        cold_base = statistics.median(baseline(settings, org_codes, full=True) for _ in range(3))
        warm_base = statistics.median(
            baseline(settings, org_codes, full=False) for _ in range(REPEATS)
        )
    page = statistics.median(times)
    results = {
        "stays": HOSPITALS * STAYS_PER_HOSPITAL,
        "hospitals": HOSPITALS,
        "departmentStrata": HOSPITALS * DEPARTMENTS,
        **published,
        "pageBytes": len(first.content),
        "firstViewSeconds": round(cold, 3),
        "firstViewBaselineSeconds": round(cold_base, 3),
        "pageSeconds": round(page, 3),
        "baselineSeconds": round(warm_base, 3),
        "ratio": round(page / warm_base, 2),
        "firstViewRatio": round(cold / cold_base, 2),
    }
    (STATE / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(
        f"console overview, {results['stays']:,} stays ({HOSPITALS} hospitals, "
        f"{results['departmentStrata']} department strata; {published['reports']} reports, "
        f"largest {published['largestReportBytes'] / 1024:.0f} KiB; "
        f"{len(first.content) / 1024:.0f} KiB of HTML):"
    )
    print(
        f"  page view (server time, median of {REPEATS}): {page:.3f} s; baseline, the same "
        f"counting searches straight to HAPI: {warm_base:.3f} s; ratio {page / warm_base:.2f}"
    )
    print(
        f"  first view after start-up (reports read in full): {cold:.3f} s; baseline, the same "
        f"searches straight to HAPI: {cold_base:.3f} s; ratio {cold / cold_base:.2f}"
    )
    database.dispose()
