"""Incremental refresh == a fresh full evaluation == ground truth, after a day's kind of changes.

One small region goes through the real pipeline into the real HAPI; the stay ledger is seeded;
then hospitals change things the way they do (corrected records re-sent with a higher
recordVersion, a new stay, a readmission at another hospital whose VTE makes an earlier stay's
hospital-associated VTE, a deletion straight on HAPI), and the refresh re-reads only the people
touched. Every indicator, hospital and stratum is compared with a fresh ``engine.evaluate`` and
with the generator's ground truth computed from the changed records.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from live_region import live_settings, push_regions
from sqlalchemy import update
from typer.testing import CliRunner

from facade.cli.main import app
from facade.db import Database
from facade.fhir.naming import record_identifier_system
from facade.indicators.engine import Evaluation
from facade.indicators.incremental import LedgerRefresher, LedgerRun
from facade.indicators.schedule import IndicatorRefresher, RefreshJob
from facade.indicators.service import catalog, engine
from facade.indicators.tables import IndicatorLedger
from facade.settings import Settings
from facade.synth import scenarios
from facade.synth.clinical import Plan
from facade.synth.generator import Builder, Region, RegionSpec
from facade.synth.records import Event, Stay
from facade.synth.truth import expected
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration
PERIOD = "2026-Q1"
T = TypeVar("T")


class Revised(Region):
    """The changed and new stays only, every record at recordVersion 2 (corrections must raise
    it); hospitals are registered again but their Organization is not re-sent."""

    def records(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        out = super().records()
        for kinds in out.values():
            kinds["organization"] = []
            for items in kinds.values():
                for record in items:
                    record["recordVersion"] = 2
        return out


@dataclass
class World:
    settings: Settings
    database: Database
    region: Region  # every stay as it is in HAPI now
    orgs: list[str]
    seeded: LedgerRun
    seed_full: dict[str, Any]
    seed_truth: dict[str, Any]
    changed_people: int


def _region(builder: Builder, stays: list[Stay]) -> Region:
    return Region(
        builder.spec, builder.period, builder.hospitals, stays, builder.cutoff, builder.people
    )


def _run(settings: Settings, call: Callable[[UpstreamClient], Awaitable[T]]) -> T:
    async def go() -> T:
        upstream = UpstreamClient(settings)
        try:
            return await call(upstream)
        finally:
            await upstream.aclose()

    return asyncio.run(go())


def _refresher(settings: Settings, database: Database, upstream: UpstreamClient) -> LedgerRefresher:
    # A margin of 1 s: the test's writes are all committed before each pass starts.
    return LedgerRefresher(engine(settings, upstream), database, margin_seconds=1.0)


def _evaluate(settings: Settings, orgs: list[str]) -> Evaluation:
    return _run(settings, lambda up: engine(settings, up).evaluate(PERIOD, orgs=orgs))


def _truth(settings: Settings, region: Region) -> dict[str, Any]:
    results = expected(region.records(), catalog(settings).definitions, PERIOD)
    return {i: r.as_dict() for i, r in results.items()}


def _as_dicts(run: Evaluation) -> dict[str, Any]:
    return {i: r.as_dict() for i, r in run.results.items()}


@pytest.fixture(scope="module")
def world(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    settings = live_settings(fhir_base_url, tmp_path_factory.mktemp("indicators-incremental"))
    database = Database(settings.database_url)
    database.upgrade()
    builder = Builder(RegionSpec(seed=505, hospitals=3, encounters=70, run=uuid.uuid4().hex[:10]))
    scenarios.add_all(builder)
    while len(builder.stays) < builder.spec.encounters:
        builder.episode()
    first, second, third = builder.hospitals
    # Held back until after seeding: a new stay, and a readmission at the third hospital with a
    # VTE present on admission 9 days after a discharge from the first (hospital-associated VTE
    # of that earlier stay).
    person = builder.person()
    index = builder.stay(
        first,
        person,
        builder.start + timedelta(days=20),
        builder.start + timedelta(days=26),
        plan=Plan(in_hospital_event=False),
        label="index stay; readmitted later",
    )
    held = [
        builder.stay(
            second,
            builder.person(),
            builder.start + timedelta(days=40),
            builder.start + timedelta(days=45),
            label="a new stay uploaded after seeding",
        ),
        builder.stay(
            third,
            person,
            builder.start + timedelta(days=35, hours=8),
            builder.start + timedelta(days=39),
            plan=Plan(in_hospital_event=False, band="low"),
            events=[Event(builder.start + timedelta(days=35, hours=10), "1", "1", False)],
            label="readmission with VTE present on admission",
        ),
    ]
    initial = [s for s in builder.stays if all(s is not h for h in held)]
    assert index in initial
    push_regions(settings, database, [_region(builder, initial)])
    # The seed's watermark is HAPI's clock minus the 1 s margin: the initial load's last writes
    # must be behind it, or the refresh below re-reads their people too (a fast forwarder
    # stores hundreds of resources in the last second).
    time.sleep(2)
    orgs = [h.org_code for h in builder.hospitals]

    seeded = _run(settings, lambda up: _refresher(settings, database, up).seed(PERIOD, orgs))
    seed_full = _as_dicts(_evaluate(settings, orgs))  # before anything changes
    seed_truth = _truth(settings, _region(builder, initial))

    # -- a day of changes
    discharged = [
        s
        for s in initial
        if s.discharged is not None
        and builder.start <= s.discharged < builder.end
        and not s.label
        and s is not index
    ]
    moved = next(s for s in discharged if s.hospital is first and len(first.departments) > 1)
    moved.department = next(d for d in first.departments if d != moved.department)
    undone = next(
        s
        for s in discharged
        if s.hospital is second and any(m.status in ("1", "2", "3") for m in s.measures)
    )
    undone.measures = [
        dataclasses.replace(m, status="4", started=None, ended=None) for m in undone.measures
    ]
    changed = [moved, undone, *held]
    revised = Revised(
        dataclasses.replace(builder.spec, seed=506),
        builder.period,
        builder.hospitals,
        changed,
        builder.cutoff,
        builder.people,
    )
    push_regions(settings, database, [revised])
    bled = next(s for s in discharged if s.hospital is third and s.bleeding and s not in changed)
    _run(settings, lambda up: _delete_bleeding(up, bled))
    bled.bleeding = []
    time.sleep(2)  # the last write behind the 1 s margin: a second refresh then finds nothing new
    people = {s.person.id_number for s in [*changed, bled, index]}
    yield World(
        settings,
        database,
        _region(builder, builder.stays),
        orgs,
        seeded,
        seed_full,
        seed_truth,
        len(people),
    )
    database.dispose()


async def _delete_bleeding(upstream: UpstreamClient, stay: Stay) -> None:
    """Delete the stay's bleeding-risk assessments straight on HAPI (as a FHIR client could)."""
    system = record_identifier_system(stay.hospital.org_code, "bleeding-risk")
    for n in range(1, len(stay.bleeding) + 1):
        page = await upstream.get_json(
            "RiskAssessment", {"identifier": f"{system}|{stay.case_id}-B{n}"}
        )
        (entry,) = page["entry"]
        await upstream.request("DELETE", f"RiskAssessment/{entry['resource']['id']}")


def test_the_seeded_ledger_sums_to_a_full_evaluation_and_the_ground_truth(world: World) -> None:
    seeded = world.seeded
    assert seeded.stats.mode == "full" and seeded.stats.stays > 40
    assert _as_dicts(seeded.evaluation) == world.seed_full == world.seed_truth


def test_an_incremental_refresh_equals_a_full_run_and_the_truth_after_changes(
    world: World,
) -> None:
    settings, database = world.settings, world.database
    run = _run(settings, lambda up: _refresher(settings, database, up).refresh(PERIOD, world.orgs))
    stats = run.stats
    assert stats.mode == "incremental", stats.reason
    assert stats.deleted >= 1 and stats.changes >= 5
    # only the people touched were re-read (every record of each), not the region
    assert 0 < stats.stays_reread <= 4 * world.changed_people < stats.stays / 2
    full = _evaluate(settings, world.orgs)
    truth = _truth(settings, world.region)
    assert _as_dicts(run.evaluation) == _as_dicts(full) == truth
    # the changes did change figures: the readmission's VTE is the first hospital's HA-VTE
    first = world.orgs[0]
    before = world.seed_truth["C1"]["orgs"][first]["populations"]["numerator"]
    assert truth["C1"]["orgs"][first]["populations"]["numerator"] == before + 1
    assert truth != world.seed_truth

    again = _run(
        settings, lambda up: _refresher(settings, database, up).refresh(PERIOD, world.orgs)
    )
    assert again.stats.mode == "incremental" and again.stats.changes == 0
    assert _as_dicts(again.evaluation) == truth


def test_a_ledger_of_other_definitions_is_seeded_again_and_says_why(world: World) -> None:
    settings, database = world.settings, world.database
    with database.session() as session:
        session.execute(update(IndicatorLedger).values(fingerprint="0" * 64))
    run = _run(settings, lambda up: _refresher(settings, database, up).refresh(PERIOD, world.orgs))
    assert run.stats.mode == "full"
    assert "definitions changed" in run.stats.reason
    assert _as_dicts(run.evaluation) == _truth(settings, world.region)


def test_refresh_jobs_use_the_ledger_and_publish_every_report(world: World) -> None:
    settings = world.settings.model_copy(
        update={"indicator_region": world.orgs, "indicator_incremental_margin_seconds": 1.0}
    )
    refresher = IndicatorRefresher(settings, world.database)
    job = RefreshJob(PERIOD, None, "test")
    _run(settings, lambda up: refresher.run_job(job, up))
    assert job.state == "done", job.error
    assert job.mode == "incremental" and job.note.startswith("incremental:")
    assert job.reports == 12 * (1 + len(world.orgs))
    off = IndicatorRefresher(
        settings.model_copy(update={"indicator_incremental": False}), world.database
    )
    assert off.database is None


def test_the_cli_refreshes_incrementally(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = world.settings
    for name, value in {
        "VTE_VAR_DIR": str(settings.var_dir),
        "VTE_DATABASE_URL": settings.database_url,
        "VTE_FHIR_BASE_URL": settings.fhir_base_url,
        "VTE_ENVIRONMENT": "test",
        "VTE_INDICATOR_INCREMENTAL_MARGIN_SECONDS": "1",  # the region was pushed minutes ago
    }.items():
        monkeypatch.setenv(name, value)
    region = [arg for org in world.orgs for arg in ("--region-org", org)]
    result = CliRunner().invoke(
        app, ["indicators", "--period", PERIOD, *region, "--incremental", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # logs go to stderr
    assert data["ledger"]["mode"] == "incremental" and data["ledger"]["stays"] > 40, data["ledger"][
        "reason"
    ]
    shown = {row["id"]: row["populations"] for row in data["tables"][0]["indicators"]}
    truth = _truth(settings, world.region)
    assert shown == {i: r["region"]["populations"] for i, r in truth.items()}
    refused = CliRunner().invoke(
        app, ["indicators", "--period", PERIOD, "--incremental", "--indicator", "A1", "--json"]
    )
    assert refused.exit_code == 2 and "leave out --indicator" in refused.output
