"""The generator: deterministic, valid against the data dictionary, edge cases present."""

from __future__ import annotations

from collections import Counter

import pytest

from facade.mapping.validate import validate_record
from facade.native.orgs import uscc_is_valid
from facade.privacy.identity import resident_id_valid
from facade.synth.generator import RegionSpec, generate

EDGE_CASES = {
    "first risk assessment exactly 24 h after admission",
    "VTE at another hospital on day 90 after discharge",
    "VTE at another hospital on day 91 after discharge",
    "VTE reported by the discharging hospital late on day 90",
    "VTE present on admission, no earlier stay (not hospital-associated)",
    "in-hospital PTE, VTE-related death",
    "high bleeding risk, mechanical prophylaxis contraindicated, nothing given",
    "discharged on the first second after the period",
}


def test_same_seed_same_region_other_seed_other_region() -> None:
    one = generate(RegionSpec(seed=5, encounters=120)).records()
    again = generate(RegionSpec(seed=5, encounters=120)).records()
    other = generate(RegionSpec(seed=6, encounters=120)).records()
    assert one == again
    assert one != other


def test_run_keeps_org_codes_and_people_apart() -> None:
    first = generate(RegionSpec(seed=5, encounters=80, run="a"))
    second = generate(RegionSpec(seed=5, encounters=80, run="b"))
    assert not set(first.org_codes) & set(second.org_codes)
    assert not {p.id_number for p in first.people} & {p.id_number for p in second.people}


def test_sizes_codes_and_edge_cases() -> None:
    region = generate(RegionSpec(seed=9, hospitals=4, encounters=300))
    assert len(region.stays) == 300
    assert len(region.hospitals) == 4 and all(uscc_is_valid(code) for code in region.org_codes)
    numbers = [p.id_number for p in region.people]
    assert len(set(numbers)) == len(numbers) and all(resident_id_valid(n) for n in numbers)
    assert EDGE_CASES <= {s.label for s in region.stays}
    # realistic mix: most stays assessed, deaths, transfers, readmissions across hospitals
    dispositions = Counter(s.disposition for s in region.stays)
    assert dispositions["5"] >= 2 and dispositions["2"] >= 1
    hospitals_per_person = Counter(
        p.id_number
        for p in region.people
        for _ in {s.hospital.index for s in region.stays if s.person is p}
    )
    assert max(hospitals_per_person.values()) >= 2
    assessed = sum(1 for s in region.stays if s.assessments) / len(region.stays)
    assert 0.7 < assessed < 1.0


def test_at_least_ten_resources_per_stay_on_average() -> None:
    region = generate(RegionSpec(seed=3, encounters=500))
    assert 7 <= region.resource_estimate() / len(region.stays) <= 13


@pytest.mark.parametrize("seed", [1, 2])
def test_every_record_passes_the_data_dictionary(seed: int) -> None:
    region = generate(RegionSpec(seed=seed, hospitals=3, encounters=200))
    problems = []
    for org, kinds in region.records().items():
        cases = {c["recordId"]: c for c in kinds["case"]}
        for kind, records in kinds.items():
            for index, record in enumerate(records):
                linked = (
                    {"caseRecordId": cases[record["caseRecordId"]]}
                    if "caseRecordId" in record
                    else None
                )
                problems += validate_record(
                    kind, record, f"{kind}[{index}]", envelope={"orgCode": org}, linked=linked
                )
    assert problems == []


def test_children_refer_to_cases_of_their_own_hospital() -> None:
    for org, kinds in generate(RegionSpec(seed=4, encounters=150)).records().items():
        cases = {c["recordId"] for c in kinds["case"]}
        for kind, records in kinds.items():
            assert all(r["caseRecordId"] in cases for r in records if "caseRecordId" in r), (
                org,
                kind,
            )
