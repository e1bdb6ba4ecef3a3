"""Engine == ground truth through the real pipeline and the real HAPI; MeasureReports validate.

Three generated regions (and one hand-made cross-hospital region) go through the native gateway
and the forwarder into the shared HAPI once per module; every test scopes its searches to the
region's own (run-unique) institution codes, so other people's data never changes a count.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_region import CrossHospital, cross_hospital_region, live_settings, push_regions
from smart_kit import get_token, register
from sqlalchemy import select

from facade.app import create_app
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.errors import UpstreamRejected
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.ig.loader import errors_of, validate
from facade.indicators.engine import Evaluation
from facade.indicators.report import (
    REPORT_IDENTIFIER_SYSTEM,
    REPORT_PROFILE,
    build_report,
    find_reports,
    publish_reports,
)
from facade.indicators.service import catalog, engine, evaluate_and_publish
from facade.settings import Settings
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.truth import expected
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration
SEEDS = (101, 202, 303)
PERIOD = "2026-Q1"


@dataclass
class Loaded:
    settings: Settings
    database: Database
    regions: dict[int, Region]
    cross: CrossHospital


@pytest.fixture(scope="module")
def loaded(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    assert ig_loaded.get("SearchParameter", 0) >= 3 and ig_loaded.get("Measure", 0) >= 12
    settings = live_settings(fhir_base_url, tmp_path_factory.mktemp("indicators-live"))
    database = Database(settings.database_url)
    database.upgrade()
    run = uuid.uuid4().hex[:10]
    regions = {
        seed: generate(RegionSpec(seed=seed, hospitals=3, encounters=150, run=run))
        for seed in SEEDS
    }
    cross = cross_hospital_region(run)
    push_regions(settings, database, [*regions.values(), cross.region])
    yield Loaded(settings, database, regions, cross)
    database.dispose()


def evaluate(settings: Settings, orgs: list[str], **kwargs: Any) -> Evaluation:
    async def run() -> Evaluation:
        upstream = UpstreamClient(settings)
        try:
            return await engine(settings, upstream).evaluate(PERIOD, orgs=orgs, **kwargs)
        finally:
            await upstream.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_indicator_and_stratum_equals_the_ground_truth(loaded: Loaded, seed: int) -> None:
    region = loaded.regions[seed]
    truth = expected(region.records(), catalog(loaded.settings).definitions, PERIOD)
    run = evaluate(loaded.settings, region.org_codes)
    assert sorted(run.results) == sorted(truth)
    for indicator_id, expected_result in truth.items():
        assert run.results[indicator_id].as_dict() == expected_result.as_dict(), indicator_id
    # both evaluation paths took part, and the region is not trivially empty
    methods = {p.method for plans in run.plans.values() for p in plans}
    assert methods == {"count", "join"}
    assert run.stats.search.counts > 0 and run.stats.search.pages > 0
    assert truth["C1"].region.populations["numerator"] >= 3
    assert truth["A1"].region.populations["denominator"] > 80


def test_vte_reported_by_another_hospital_counts_for_the_discharging_hospital(
    loaded: Loaded,
) -> None:
    cross = loaded.cross
    run = evaluate(loaded.settings, [cross.a, cross.b], indicators=["C1"])
    c1 = run.results["C1"]
    # A discharged both patients in Q1; only the day-30 VTE (reported by B) is hospital-associated
    assert c1.orgs[cross.a].populations == {
        "initial-population": 2,
        "denominator": 2,
        "numerator": 1,
    }
    # B's February stay had the VTE on admission: not B's hospital-associated VTE
    assert c1.orgs[cross.b].populations == {
        "initial-population": 1,
        "denominator": 1,
        "numerator": 0,
    }
    assert run.stats.attribution is not None and run.stats.attribution.post_discharge == 1
    truth = expected(cross.region.records(), catalog(loaded.settings).definitions, PERIOD, ["C1"])
    assert c1.as_dict() == truth["C1"].as_dict()
    # the events really are B's records: A has none in HAPI
    counts = asyncio.run(_event_counts(loaded.settings, [cross.a, cross.b]))
    assert counts == {cross.a: 0, cross.b: 2}
    # without B in the region, A's post-discharge VTE cannot be seen
    alone = evaluate(loaded.settings, [cross.a], indicators=["C1"])
    assert alone.results["C1"].orgs[cross.a].populations["numerator"] == 0


async def _event_counts(settings: Settings, orgs: list[str]) -> dict[str, int]:
    upstream = UpstreamClient(settings)
    vocab = catalog(settings).vocab
    try:
        return {
            org: await upstream.count(
                "Condition", {"_tag": f"{REPORTING_ORG_TAG}|{org}", "_profile": vocab.event_profile}
            )
            for org in orgs
        }
    finally:
        await upstream.aclose()


def test_measure_reports_validate_and_recomputing_replaces_them(loaded: Loaded) -> None:
    region = loaded.regions[SEEDS[0]]

    async def publish_twice() -> tuple[
        dict[str | None, Any], list[dict[str, Any]], list[dict[str, Any]]
    ]:
        upstream = UpstreamClient(loaded.settings)
        try:
            _, tables = await evaluate_and_publish(
                loaded.settings, upstream, PERIOD, region=region.org_codes
            )
            _, again = await evaluate_and_publish(
                loaded.settings, upstream, PERIOD, region=region.org_codes, indicators=["B1"]
            )
            stored = []
            for table in tables.values():
                for row in table.rows:
                    stored.append(await upstream.get_json(row.report_id or ""))
            outcomes = [await validate(upstream, report, REPORT_PROFILE) for report in stored]
            b1 = again[None].rows[0]
            same = await upstream.get_json(
                "MeasureReport",
                {"identifier": f"{REPORT_IDENTIFIER_SYSTEM}|B1:{PERIOD}:{tables[None].scope}"},
            )
            return tables, [b1.__dict__, same], outcomes
        finally:
            await upstream.aclose()

    tables, (b1, same), outcomes = asyncio.run(publish_twice())
    assert len(tables) == 1 + len(region.org_codes)  # the region and each hospital
    assert len(outcomes) == 12 * len(tables)
    assert [errors_of(o) for o in outcomes] == [[]] * len(outcomes)
    # one report per identifier: the second evaluation updated it in place
    assert same["total"] == 1
    first_b1 = next(r for r in tables[None].rows if r.id == "B1")
    assert b1["report_id"] == first_b1.report_id
    assert same["entry"][0]["resource"]["meta"]["versionId"] == "2"


def test_empty_denominators_are_published_without_a_score_and_validate(loaded: Loaded) -> None:
    """The cross-hospital pair has a handful of stays: most indicators have an empty
    denominator at one hospital or both (in 2026-Q3 they have no stay at all)."""
    cross = loaded.cross

    async def publish() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        upstream = UpstreamClient(loaded.settings)
        try:
            stored: list[dict[str, Any]] = []
            for period in (PERIOD, "2026-Q3"):
                _, tables = await evaluate_and_publish(
                    loaded.settings, upstream, period, region=[cross.a, cross.b]
                )
                ids = [(r.report_id or "").split("/")[1] for t in tables.values() for r in t.rows]
                page = await upstream.get_json(
                    "MeasureReport", {"_id": ",".join(ids), "_count": str(len(ids))}
                )
                stored += [entry["resource"] for entry in page.get("entry", [])]
            # $validate the reports without a score: the period's empty denominators and
            # hospital B's quarter without any stay (stored reports were validated on write too)
            unscored = [
                r
                for r in stored
                if _eligible(r["group"][0]) == 0
                and (r["period"]["start"].startswith("2026-01") or _scope(r) == cross.b)
            ]
            return stored, [await validate(upstream, r, REPORT_PROFILE) for r in unscored]
        finally:
            await upstream.aclose()

    stored, outcomes = asyncio.run(publish())
    assert len(stored) == 2 * 3 * 12  # two periods x (region, A, B) x 12 indicators
    assert len(outcomes) >= 12 and [errors_of(o) for o in outcomes] == [[]] * len(outcomes)
    empty = [r for r in stored if _eligible(r["group"][0]) == 0]
    with_stays = [r for r in empty if _count(r["group"][0], "initial-population") > 0]
    # the case (stays, but no one in the denominator) and the no-stay-at-all case
    assert with_stays and len(empty) > len(with_stays)
    for report in stored:
        group = report["group"][0]
        absent = _eligible(group) == 0
        assert ("value" not in group["measureScore"]) is absent
        if absent:
            assert group["measureScore"]["extension"][0]["valueCode"] == "not-applicable"
        # every stratifier of the Measure, with or without strata
        assert len(group["stratifier"]) == 3
        for stratum in (s for f in group["stratifier"] for s in f.get("stratum", [])):
            assert ("value" not in stratum["measureScore"]) is (_eligible(stratum) == 0)


def _scope(report: dict[str, Any]) -> str:
    return str(report["identifier"][0]["value"].rsplit(":", 1)[1])


def _count(group: dict[str, Any], code: str) -> int:
    return sum(p["count"] for p in group["population"] if p["code"]["coding"][0]["code"] == code)


def _eligible(group: dict[str, Any]) -> int:
    return _count(group, "denominator") - _count(group, "denominator-exclusion")


def test_a_refused_report_leaves_none_of_the_run_stored(loaded: Loaded) -> None:
    cross = loaded.cross
    definitions = catalog(loaded.settings).definitions

    async def run() -> tuple[str, int, int]:
        upstream = UpstreamClient(loaded.settings)
        try:
            evaluation = await engine(loaded.settings, upstream).evaluate(
                "2026-02", orgs=[cross.a, cross.b]
            )
            reports = [
                build_report(
                    definitions.indicators[i], evaluation.results[i], evaluation.period, org=org
                )
                for org in (cross.a, cross.b)
                for i in evaluation.results
            ]
            values = [r["identifier"][0]["value"] for r in reports]
            broken = copy.deepcopy(reports)
            population = broken[-1]["group"][0]["population"]  # the last entry breaks vte-mr-1
            population[2]["count"] = population[1]["count"] + 1
            with pytest.raises(UpstreamRejected) as refused:
                await publish_reports(upstream, broken)
            after_refusal = len(await find_reports(upstream, values))
            await publish_reports(upstream, reports)
            after_publish = len(await find_reports(upstream, values))
            return refused.value.message, after_refusal, after_publish
        finally:
            await upstream.aclose()

    message, after_refusal, after_publish = asyncio.run(run())
    assert "vte-mr-1" in message and "none was stored" in message
    assert after_refusal == 0
    assert after_publish == 2 * 12  # the same set, unbroken, is stored whole


def test_invalid_report_is_refused_by_the_profile(loaded: Loaded) -> None:
    region = loaded.regions[SEEDS[1]]
    truth = expected(region.records(), catalog(loaded.settings).definitions, PERIOD, ["A1"])
    definitions = catalog(loaded.settings).definitions
    report = build_report(definitions.indicators["A1"], truth["A1"], _period(loaded), org=None)
    report["group"][0]["population"][2]["count"] = report["group"][0]["population"][1]["count"] + 1

    async def check() -> dict[str, Any]:
        upstream = UpstreamClient(loaded.settings)
        try:
            return await validate(upstream, report, REPORT_PROFILE)
        finally:
            await upstream.aclose()

    errors = errors_of(asyncio.run(check()))
    assert any("vte-mr-1" in (e.get("diagnostics") or "") for e in errors)


def _period(loaded: Loaded) -> Any:
    from facade.indicators.periods import parse_period

    return parse_period(PERIOD, catalog(loaded.settings).definitions.rules.tz)


def _audit_rows(database: Database) -> dict[str, tuple[str | None, str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(
                AuditRecord.id, AuditRecord.client_id, AuditRecord.interaction, AuditRecord.outcome
            )
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_api_qc_reads_everything_a_hospital_only_itself(loaded: Loaded) -> None:
    region = loaded.regions[SEEDS[2]]
    own, other = region.org_codes[0], region.org_codes[1]
    scope = ",".join(region.org_codes)
    with TestClient(
        create_app(loaded.settings, database=loaded.database, record_processor=None)
    ) as client:
        qc = register(loaded.database, "qc")
        hospital = register(loaded.database, "hospital", org=own)
        researcher = register(loaded.database, "researcher")
        base = loaded.settings.public_base_url

        def auth(
            system: Any, scope_text: str = "system/MeasureReport.rs system/Measure.rs"
        ) -> dict[str, str]:
            return {"Authorization": f"Bearer {get_token(client, system, base, scope_text)}"}

        qc_auth, hospital_auth = auth(qc), auth(hospital)
        evaluated = client.post(
            "/indicators/$evaluate", params={"period": PERIOD, "region": scope}, headers=qc_auth
        )
        assert evaluated.status_code == 200, evaluated.text
        assert len(evaluated.json()["tables"]) == 1 + len(region.org_codes)

        mine = client.get(
            "/indicators", params={"period": PERIOD, "org": own}, headers=hospital_auth
        )
        assert mine.status_code == 200 and mine.json()["scope"] == own
        truth = expected(region.records(), catalog(loaded.settings).definitions, PERIOD)
        assert {r["id"]: r["populations"] for r in mine.json()["indicators"]} == {
            k: v.orgs[own].populations for k, v in truth.items()
        }
        # a hospital asking for another hospital, or for the region, is refused
        assert (
            client.get(
                "/indicators", params={"period": PERIOD, "org": other}, headers=hospital_auth
            ).status_code
            == 403
        )
        implicit = client.get("/indicators", params={"period": PERIOD}, headers=hospital_auth)
        assert implicit.status_code == 200 and implicit.json()["scope"] == own
        # QC reads any hospital and the region
        assert (
            client.get(
                "/indicators", params={"period": PERIOD, "org": other}, headers=qc_auth
            ).status_code
            == 200
        )
        whole = client.get(
            "/indicators", params={"period": PERIOD, "region": scope}, headers=qc_auth
        )
        assert {r["id"]: r["populations"] for r in whole.json()["indicators"]} == {
            k: v.region.populations for k, v in truth.items()
        }
        # researchers get no indicator tables; nobody without a token
        assert (
            client.get(
                "/indicators",
                params={"period": PERIOD},
                headers=auth(researcher, "system/MeasureReport.rs"),
            ).status_code
            == 403
        )
        assert client.get("/indicators", params={"period": PERIOD}).status_code == 401
        assert (
            client.get("/indicators", params={"period": "2026-Q9"}, headers=qc_auth).status_code
            == 400
        )
        # through the FHIR door a hospital sees its own MeasureReports and not the others'
        fhir = client.get(
            "/fhir/MeasureReport",
            params={"identifier": f"{REPORT_IDENTIFIER_SYSTEM}|B1:{PERIOD}:{other}"},
            headers=hospital_auth,
        )
        assert fhir.status_code == 200 and not fhir.json().get("entry")
        fhir = client.get(
            "/fhir/MeasureReport",
            params={"identifier": f"{REPORT_IDENTIFIER_SYSTEM}|B1:{PERIOD}:{own}"},
            headers=hospital_auth,
        )
        assert fhir.status_code == 200 and len(fhir.json()["entry"]) == 1

        # every indicator request is audited, refused ones included
        before = _audit_rows(loaded.database)
        assert client.get("/indicators/definitions", headers=qc_auth).status_code == 200
        assert (
            client.get(
                "/indicators", params={"period": PERIOD, "org": other}, headers=hospital_auth
            ).status_code
            == 403
        )
        assert client.post("/indicators/$evaluate", params={"period": PERIOD}).status_code == 401
        new = [row for key, row in _audit_rows(loaded.database).items() if key not in before]
        assert sorted(new, key=str) == sorted(
            [
                (qc.client_id, "read", "0"),
                (hospital.client_id, "search-type", "4"),
                (None, "unknown", "4"),
            ],
            key=str,
        )
