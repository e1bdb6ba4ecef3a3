"""Loading synthetic regions into the real HAPI through the real pipeline, for the live tests.

native records → signed VTE-X batches → gateway (dictionary validation, pseudonymisation) →
forwarder (mapping engine, transaction Bundles) → HAPI with our profiles enforced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facade.app import create_app
from facade.db import Database
from facade.ig.loader import load_ig
from facade.settings import Settings, ensure_secrets
from facade.synth.clinical import Plan
from facade.synth.generator import Builder, Region, RegionSpec
from facade.synth.push import PushResult, register_region, upload_region, wait_stored
from facade.synth.records import Event
from facade.upstream import UpstreamClient

GUIDE = Path(__file__).resolve().parents[1] / "profiles" / "fsh-generated" / "resources"
# How long the suite's HAPI servers may take to answer. The 300 s default is for operators; on a
# busy shared 2-core machine a lone start took 246 s (stop 35), so the suite allows more. The
# limit only guards against a server that never answers.
TEST_HAPI_START_TIMEOUT = 900.0


def live_settings(fhir_base_url: str, var_dir: Path) -> Settings:
    """Settings of a pipeline app of its own (own SQLite database, no rate limit)."""
    return ensure_secrets(
        Settings(
            environment="test",
            var_dir=var_dir,
            fhir_base_url=fhir_base_url,
            database_url=f"sqlite:///{var_dir / 'facade.db'}",
            native_rate_per_second=0,
            upstream_timeout_seconds=120.0,
        )
    )


def load_guide(fhir_base_url: str, var_dir: Path) -> dict[str, int]:
    """PUT the committed implementation guide into the HAPI at ``fhir_base_url`` (idempotent);
    returns counts by resource type."""
    settings = Settings(
        environment="test",
        var_dir=var_dir,
        fhir_base_url=fhir_base_url,
        upstream_timeout_seconds=120.0,
    )

    async def load() -> dict[str, int]:
        client = UpstreamClient(settings)
        try:
            return (await load_ig(client, GUIDE)).counts
        finally:
            await client.aclose()

    return asyncio.run(load())


def push_regions(
    settings: Settings, database: Database, regions: list[Region], *, timeout: float = 600
) -> None:
    """Register every region's hospitals, upload everything, wait until the forwarder stored it all
    (giving up only after ``timeout`` seconds without a record stored)."""
    with TestClient(create_app(settings, database=database)) as client:
        sent: list[tuple[PushResult, dict[str, Any]]] = []
        for region in regions:
            apps = asyncio.run(_register(settings, database, region))
            sent.append((upload_region(region, apps, client), apps))
        for result, apps in sent:
            wait_stored(result, apps, client, stall_seconds=timeout)


async def _register(settings: Settings, database: Database, region: Region) -> dict[str, Any]:
    upstream = UpstreamClient(settings)
    try:
        return dict(await register_region(settings, database, upstream, region))
    finally:
        await upstream.aclose()


@dataclass
class CrossHospital:
    """Two hospitals; the discharging hospital A never reports the VTE, hospital B does."""

    region: Region
    a: str
    b: str


def cross_hospital_region(run: str) -> CrossHospital:
    """Patient 1: discharged from A on 10 Jan, readmitted to B on 9 Feb (day 30) with a DVT
    present on admission, reported by B. Patient 2: the same on day 91 (11 Apr). B's stays are
    at low VTE risk, so B's medium/high-risk indicators (A2m, B1) have stays but an empty
    denominator."""
    builder = Builder(RegionSpec(seed=0, hospitals=2, encounters=10**6, run=f"cross-{run}"))
    a, b = builder.hospitals
    quiet = Plan(in_hospital_event=False)
    low_risk = Plan(in_hospital_event=False, band="low")
    first = builder.person()
    builder.stay(
        a, first, datetime(2026, 1, 3, 9), datetime(2026, 1, 10, 15), plan=quiet, label="index at A"
    )
    builder.stay(
        b,
        first,
        datetime(2026, 2, 9, 8),
        datetime(2026, 2, 14, 8),
        plan=low_risk,
        events=[Event(datetime(2026, 2, 9, 10), "1", "1", False)],
        label="day 30 at B",
    )
    second = builder.person()
    builder.stay(
        a,
        second,
        datetime(2026, 1, 3, 9),
        datetime(2026, 1, 10, 15),
        plan=quiet,
        label="index at A",
    )
    builder.stay(
        b,
        second,
        datetime(2026, 4, 11, 8),
        datetime(2026, 4, 14, 8),
        plan=low_risk,
        events=[Event(datetime(2026, 4, 11, 10), "1", "1", False)],
        label="day 91 at B",
    )
    region = Region(
        builder.spec,
        builder.period,
        builder.hospitals,
        builder.stays,
        builder.cutoff,
        builder.people,
    )
    return CrossHospital(region, a.org_code, b.org_code)
