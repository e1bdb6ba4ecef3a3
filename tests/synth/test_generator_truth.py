"""Ground truth on generated regions: the edge cases land where the rules say."""

from __future__ import annotations

from pathlib import Path

from facade.indicators.definitions import load_definitions
from facade.synth.generator import RegionSpec, generate
from facade.synth.truth import expected

REPO = Path(__file__).resolve().parents[2]


def test_truth_is_consistent_across_scopes_and_strata() -> None:
    definitions = load_definitions(REPO / "mappings" / "indicators")
    region = generate(RegionSpec(seed=21, hospitals=3, encounters=400))
    truth = expected(region.records(), definitions, "2026-Q1")
    for result in truth.values():
        region_pops = result.region.populations
        assert (
            region_pops["numerator"]
            <= region_pops["denominator"]
            <= region_pops["initial-population"]
        )
        for code, total in region_pops.items():
            assert sum(o.populations[code] for o in result.orgs.values()) == total
            for name, strata in result.region.strata.items():
                assert sum(c[code] for c in strata.values()) == total, (result.indicator_id, name)
    # the two period-boundary stays that fall outside Q1 are not in the denominator
    inside = sum(
        1
        for s in region.stays
        if s.discharged
        and region.period.start.replace(tzinfo=None)
        <= s.discharged
        < region.period.end.replace(tzinfo=None)
    )
    assert truth["A1"].region.populations["denominator"] == inside


def test_cross_hospital_edge_cases_are_hospital_associated() -> None:
    definitions = load_definitions(REPO / "mappings" / "indicators")
    region = generate(RegionSpec(seed=22, hospitals=3, encounters=60))
    by_label = {s.label: s for s in region.stays if s.label}
    records = region.records()
    ha = expected(records, definitions, "2026-Q1", ["C1"])["C1"]
    first = region.hospitals[0].org_code
    # hospital 1 discharges the index stays of the five 90-day cases; three of them count
    # (day 90 elsewhere, day 90 late by the same hospital, day 30 readmission)
    scenario_stays = [
        by_label[k]
        for k in (
            "VTE at another hospital on day 90 after discharge",
            "VTE at another hospital on day 91 after discharge",
            "VTE reported by the discharging hospital late on day 90",
            "VTE reported by the discharging hospital on day 91",
            "VTE on readmission to the same hospital on day 30",
        )
    ]
    assert all(s.hospital.org_code == first for s in scenario_stays)
    readmissions = {s.case_id for s in region.stays if s.label.endswith("(readmission)")}
    kept = {s.case_id for s in scenario_stays} | readmissions
    counted = expected(_only(records, kept, first), definitions, "2026-Q1", ["C1"])
    assert counted["C1"].orgs[first].populations["numerator"] == 3
    assert ha.region.populations["numerator"] >= 3


def _only(records: dict, case_ids: set[str], org: str) -> dict:  # type: ignore[type-arg]
    """The region with hospital ``org`` reduced to the named cases (other hospitals untouched)."""
    out = {o: dict(kinds) for o, kinds in records.items()}
    out[org] = {
        kind: [
            r
            for r in items
            if r.get("caseRecordId", r.get("recordId")) in case_ids or kind == "organization"
        ]
        for kind, items in records[org].items()
    }
    return out
