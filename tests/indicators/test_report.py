"""DEQM-style summary MeasureReports built from results, and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from facade.fhir.naming import REPORTING_ORG_TAG
from facade.indicators.definitions import load_definitions
from facade.indicators.periods import parse_period
from facade.indicators.report import (
    REPORT_PROFILE,
    build_report,
    measure_url,
    read_counts,
    region_key,
)
from facade.indicators.results import IndicatorResult, ScopeResult

REPO = Path(__file__).resolve().parents[2]
DEFS = load_definitions(REPO / "mappings" / "indicators")
PERIOD = parse_period("2026-Q1", timezone(timedelta(hours=8)))
ORG = "12330100HANDAAA010"
NOT_APPLICABLE = {
    "extension": [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "not-applicable",
        }
    ]
}


def result() -> IndicatorResult:
    pops = {"initial-population": 10, "denominator": 8, "numerator": 6}
    strata = {
        "hospital": {ORG: pops},
        "discharge-department": {
            f"{ORG}/0301": {"initial-population": 7, "denominator": 5, "numerator": 5},
            f"{ORG}/0101": {"initial-population": 3, "denominator": 3, "numerator": 1},
        },
        "discharge-month": {
            "2026-01": {"initial-population": 10, "denominator": 0, "numerator": 0}
        },
    }
    org_strata = {k: v for k, v in strata.items() if k != "hospital"}
    return IndicatorResult(
        "B1", "2026-Q1", ScopeResult(pops, strata), {ORG: ScopeResult(pops, org_strata)}
    )


def test_region_report_shape() -> None:
    b1 = DEFS.indicators["B1"]
    report = build_report(
        b1,
        result(),
        PERIOD,
        org=None,
        region=region_key(None),
        now=datetime(2026, 4, 2, tzinfo=UTC),
    )
    assert report["meta"] == {"profile": [REPORT_PROFILE]}  # no tenancy tag: region-wide roles only
    assert report["identifier"][0]["value"] == "B1:2026-Q1:region"
    assert (
        report["measure"]
        == measure_url(b1)
        == "https://fhir.vte-region.cn/ig/Measure/appropriate-prophylaxis-rate"
    )
    assert (report["status"], report["type"]) == ("complete", "summary")
    assert report["period"] == {
        "start": "2026-01-01T00:00:00+08:00",
        "end": "2026-03-31T23:59:59+08:00",
    }
    group = report["group"][0]
    assert [(p["id"], p["count"]) for p in group["population"]] == [
        ("initial-population", 10),
        ("denominator", 8),
        ("numerator", 6),
    ]
    assert group["measureScore"] == {"value": 0.75}
    assert [s["code"][0]["coding"][0]["code"] for s in group["stratifier"]] == [
        "hospital",
        "discharge-department",
        "discharge-month",
    ]
    department = group["stratifier"][1]["stratum"][0]
    assert department["value"]["coding"][0] == {
        "system": f"https://fhir.vte-region.cn/ig/CodeSystem/department/{ORG}",
        "code": "0101",
    }
    month = group["stratifier"][2]["stratum"][0]
    assert month["value"] == {"text": "2026-01"}
    assert month["measureScore"] == NOT_APPLICABLE  # empty denominator: no score, and why


def test_hospital_report_is_tagged_with_the_hospital_and_is_its_own_single_stratum() -> None:
    report = build_report(DEFS.indicators["B1"], result(), PERIOD, org=ORG)
    assert report["meta"]["tag"] == [{"system": REPORTING_ORG_TAG, "code": ORG}]
    assert report["reporter"]["identifier"]["value"] == ORG
    assert report["identifier"][0]["value"] == f"B1:2026-Q1:{ORG}"
    hospital = report["group"][0]["stratifier"][0]
    assert hospital["code"][0]["coding"][0]["code"] == "hospital"
    assert [s["value"]["coding"][0]["code"] for s in hospital["stratum"]] == [ORG]


def test_counts_round_trip() -> None:
    original = result()
    report = build_report(DEFS.indicators["B1"], original, PERIOD, org=None)
    populations, strata = read_counts(report)
    assert ScopeResult(populations, strata).as_dict() == original.region.as_dict()


def test_scoped_regions_get_distinct_keys() -> None:
    assert region_key(None) == "region"
    assert region_key(["B", "A"]) == region_key(["A", "B"]) != region_key(["A"])


def test_a_hospital_with_nothing_to_count_reports_zeros_and_no_score() -> None:
    c1 = DEFS.indicators["C1"]
    zeros = {code.value: 0 for code in c1.codes}
    empty = IndicatorResult("C1", "2026-Q1", ScopeResult(dict(zeros)), {ORG: ScopeResult({})})
    group = build_report(c1, empty, PERIOD, org=ORG)["group"][0]
    assert [(p["id"], p["count"]) for p in group["population"]] == [
        (code.value, 0) for code in c1.codes
    ]
    assert group["measureScore"] == NOT_APPLICABLE
    # every stratifier of the Measure is there, none with a stratum
    assert [s["code"][0]["coding"][0]["code"] for s in group["stratifier"]] == [
        s.value for s in c1.stratifiers
    ]
    assert all("stratum" not in s for s in group["stratifier"])
    populations, strata = read_counts({"group": [group]})
    assert (populations, strata) == (zeros, {})
