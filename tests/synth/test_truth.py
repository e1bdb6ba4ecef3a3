"""The ground truth on tiny hand-built regions whose values were worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from records_kit import ORG_A, ORG_B, ORG_C, bleed, case, event, measure, mech, region, risk

from facade.indicators.definitions import Definitions, load_definitions
from facade.synth.truth import expected

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return load_definitions(REPO / "mappings" / "indicators")


def pops(ip: int, den: int, num: int) -> dict[str, int]:
    return {"initial-population": ip, "denominator": den, "numerator": num}


def test_first_assessment_at_exactly_24_hours_counts(definitions: Definitions) -> None:
    records = region(
        case(ORG_A, "C1", 1, "2026-01-05 08:00:00", "2026-01-10 08:00:00"),
        risk(ORG_A, "C1", "2026-01-06 08:00:00", 6),
        case(ORG_A, "C2", 2, "2026-01-05 08:00:00", "2026-01-10 08:00:00"),
        risk(ORG_A, "C2", "2026-01-06 08:00:01", 6),
        risk(ORG_A, "C2", "2026-01-07 08:00:00", 6, n=2),
        case(ORG_A, "C3", 3, "2026-01-05 08:00:00", "2026-01-10 08:00:00"),
    )
    truth = expected(records, definitions, "2026-Q1", ["A1", "A1t"])
    assert truth["A1"].region.populations == pops(3, 3, 2)
    assert truth["A1t"].region.populations == pops(3, 3, 1)


def test_vte_reported_by_another_hospital_counts_for_the_discharging_one(
    definitions: Definitions,
) -> None:
    records = region(
        # discharged from A on 2026-01-10; B readmits on day 90 with a VTE present on admission
        case(ORG_A, "C1", 1, "2026-01-03 09:00:00", "2026-01-10 15:00:00"),
        case(ORG_B, "R1", 1, "2026-04-10 09:00:00", "2026-04-15 09:00:00"),
        event(ORG_B, "R1", "2026-04-10 23:00:00", poa="1"),
        # the same on day 91: not hospital-associated
        case(ORG_A, "C2", 2, "2026-01-03 09:00:00", "2026-01-10 15:00:00"),
        case(ORG_B, "R2", 2, "2026-04-11 09:00:00", "2026-04-15 09:00:00"),
        event(ORG_B, "R2", "2026-04-11 09:30:00", poa="1"),
        # another person at B (identity numbers differ): never linked to A
        case(ORG_A, "C3", 3, "2026-02-01 09:00:00", "2026-02-03 09:00:00"),
        case(ORG_B, "R3", 4, "2026-02-10 09:00:00", "2026-02-15 09:00:00"),
        event(ORG_B, "R3", "2026-02-10 10:00:00", poa="1"),
    )
    c1 = expected(records, definitions, "2026-Q1", ["C1"])["C1"]
    assert c1.orgs[ORG_A].populations == pops(3, 3, 1)
    assert c1.orgs[ORG_B].populations == pops(1, 1, 0)  # R3 only; its VTE was present on admission
    assert c1.region.strata["hospital"] == {ORG_A: pops(3, 3, 1), ORG_B: pops(1, 1, 0)}


def test_in_hospital_onset_needs_not_present_on_admission_and_more_than_24_hours(
    definitions: Definitions,
) -> None:
    admit, leave = "2026-02-01 00:00:00", "2026-02-10 00:00:00"
    records = region(
        case(ORG_A, "C1", 1, admit, leave),
        event(ORG_A, "C1", "2026-02-02 01:00:00", poa="4"),  # 25 h: yes
        case(ORG_A, "C2", 2, admit, leave),
        event(ORG_A, "C2", "2026-02-01 23:00:00", poa="4"),  # 23 h: no
        case(ORG_A, "C3", 3, admit, leave),
        event(ORG_A, "C3", "2026-02-02 06:00:00", poa="1"),  # present: no
        # diagnosed after the stay ended: not in hospital, but day 5 after this discharge: yes
        case(ORG_A, "C4", 4, admit, leave),
        event(ORG_A, "C4", "2026-02-15 10:00:00", poa="4"),
    )
    assert expected(records, definitions, "2026-Q1", ["C1"])["C1"].region.populations == pops(
        4, 4, 2
    )


def test_the_most_recent_prior_discharge_gets_the_event(definitions: Definitions) -> None:
    records = region(
        case(ORG_A, "C1", 1, "2026-01-02 09:00:00", "2026-01-05 09:00:00"),
        case(ORG_C, "K1", 1, "2026-02-15 09:00:00", "2026-02-20 09:00:00"),
        case(ORG_B, "R1", 1, "2026-03-01 09:00:00", "2026-03-04 09:00:00"),
        event(ORG_B, "R1", "2026-03-01 11:00:00", poa="1"),
    )
    c1 = expected(records, definitions, "2026-Q1", ["C1"])["C1"]
    assert {org: r.populations["numerator"] for org, r in c1.orgs.items()} == {
        ORG_A: 0,
        ORG_B: 0,
        ORG_C: 1,
    }


def test_strata_by_month_and_department_with_period_boundaries(definitions: Definitions) -> None:
    records = region(
        case(ORG_A, "C1", 1, "2026-01-28 08:00:00", "2026-01-31 23:59:59", dept="0301"),
        risk(ORG_A, "C1", "2026-01-28 09:00:00", 2),
        case(ORG_A, "C2", 2, "2026-01-28 08:00:00", "2026-02-01 00:00:00", dept="0101"),
        case(ORG_A, "C3", 3, "2026-03-28 08:00:00", "2026-03-31 23:59:59", dept="0301"),
        risk(ORG_A, "C3", "2026-03-28 09:00:00", 2),
        case(ORG_A, "C4", 4, "2026-03-28 08:00:00", "2026-04-01 00:00:00", dept="0301"),  # Q2
        case(ORG_A, "C5", 5, "2025-12-28 08:00:00", "2025-12-31 23:59:59", dept="0301"),  # Q4 2025
        case(ORG_A, "C6", 6, "2026-03-28 08:00:00", None, dept="0301"),  # still in hospital
        case(ORG_B, "R1", 7, "2026-02-02 08:00:00", "2026-02-03 08:00:00", dept="0301"),
    )
    a1 = expected(records, definitions, "2026-Q1", ["A1"])["A1"]
    assert a1.region.populations == pops(4, 4, 2)
    assert a1.region.strata["discharge-month"] == {
        "2026-01": pops(1, 1, 1),
        "2026-02": pops(2, 2, 0),
        "2026-03": pops(1, 1, 1),
    }
    assert a1.region.strata["discharge-department"] == {
        f"{ORG_A}/0301": pops(2, 2, 2),
        f"{ORG_A}/0101": pops(1, 1, 0),
        f"{ORG_B}/0301": pops(1, 1, 0),
    }
    assert a1.orgs[ORG_A].strata["discharge-month"] == {
        "2026-01": pops(1, 1, 1),
        "2026-02": pops(1, 1, 0),
        "2026-03": pops(1, 1, 1),
    }
    assert "hospital" not in a1.orgs[ORG_A].strata


def test_prophylaxis_fatality_and_preventable_share(definitions: Definitions) -> None:
    admit = "2026-03-01 08:00:00"
    records = region(
        # high risk (Caprini 6), bleeding low, drug 20 h after: appropriate; in-hospital DVT
        case(ORG_A, "C1", 1, admit, "2026-03-10 08:00:00"),
        risk(ORG_A, "C1", "2026-03-01 10:00:00", 6),
        bleed(ORG_A, "C1", "2026-03-01 10:10:00"),
        measure(ORG_A, "C1", "3", "2026-03-02 06:00:00"),
        event(ORG_A, "C1", "2026-03-05 08:00:00", poa="4"),
        # high risk, only mechanical given: not appropriate; in-hospital PTE, died
        case(ORG_A, "C2", 2, admit, "2026-03-09 08:00:00", disposition="5"),
        risk(ORG_A, "C2", "2026-03-01 10:00:00", 6),
        bleed(ORG_A, "C2", "2026-03-01 10:10:00"),
        measure(ORG_A, "C2", "2", "2026-03-01 12:00:00"),
        event(ORG_A, "C2", "2026-03-08 08:00:00", poa="4", death=True, vte_type="2"),
        # high risk, high bleeding, mechanical contraindicated, nothing given: appropriate
        case(ORG_A, "C3", 3, admit, "2026-03-10 08:00:00"),
        risk(ORG_A, "C3", "2026-03-01 10:00:00", 7),
        bleed(ORG_A, "C3", "2026-03-01 10:10:00", high=True),
        mech(ORG_A, "C3", "2026-03-01 10:20:00", contraindicated=True),
        # medium risk (Caprini 3): drug ordered but not given -> not appropriate, not drug-treated
        case(ORG_A, "C4", 4, admit, "2026-03-10 08:00:00"),
        risk(ORG_A, "C4", "2026-03-01 10:00:00", 3, level="3"),
        bleed(ORG_A, "C4", "2026-03-01 10:10:00"),
        measure(ORG_A, "C4", "3", None, status="4"),
        # low risk (Caprini 1): outside the 中高危 denominator
        case(ORG_A, "C5", 5, admit, "2026-03-10 08:00:00"),
        risk(ORG_A, "C5", "2026-03-01 10:00:00", 1, level="2"),
    )
    truth = expected(records, definitions, "2026-Q1")
    assert truth["B1"].region.populations == pops(5, 4, 2)
    assert truth["B2"].region.populations == pops(5, 4, 1)
    assert truth["B3"].region.populations == pops(5, 4, 1)
    assert truth["A2m"].region.populations == pops(5, 4, 4)
    assert truth["C1"].region.populations == pops(5, 5, 2)
    assert truth["C2"].region.populations == pops(2, 2, 1)
    assert truth["C4"].region.populations == pops(2, 2, 1)


def test_post_operative_rates_read_the_front_page(definitions: Definitions) -> None:
    records = region(
        case(
            ORG_A,
            "C1",
            1,
            "2026-03-01 08:00:00",
            "2026-03-10 08:00:00",
            operated=True,
            dx=(("I26.900", "4"), ("I80.200", "1")),
        ),
        case(
            ORG_A,
            "C2",
            2,
            "2026-03-01 08:00:00",
            "2026-03-10 08:00:00",
            operated=True,
            dx=(("I80.200", "4"),),
        ),
        case(
            ORG_A, "C3", 3, "2026-03-01 08:00:00", "2026-03-10 08:00:00", dx=(("I26.900", "4"),)
        ),  # no operation
    )
    truth = expected(records, definitions, "2026-Q1", ["C5", "C6"])
    assert truth["C5"].region.populations == pops(2, 2, 1)
    assert truth["C6"].region.populations == pops(2, 2, 1)
