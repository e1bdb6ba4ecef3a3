"""Per-field validation: each rule gives its native code at the field's path, messages never echo values."""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ORG

from facade.errors import Issue
from facade.mapping import values
from facade.mapping.engine import MappingEngine
from facade.mapping.validate import unknown_fields, validate_record

DATA = Path(__file__).parent / "data"
CASE_STAY = {"admissionDateTime": "2026-01-05 09:30:00", "dischargeDateTime": "2026-01-19 10:00:00"}


def golden(case: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / case / "record.json").read_text(encoding="utf-8"))
    return record


def check(record_type: str, record: Any, **kwargs: Any) -> list[tuple[str, str]]:
    issues = validate_record(record_type, record, "records[3]", envelope={"orgCode": ORG}, **kwargs)
    return [(i.location, i.native_code) for i in issues]


def changed(case: str, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(golden(case))
    for name, value in changes.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = value
    return record


def test_golden_records_are_valid() -> None:
    assert check("case", golden("case-discharged")) == []
    assert check("vte-risk", golden("vte-risk-caprini"), linked={"caseRecordId": CASE_STAY}) == []


# -- 3001 missing ---------------------------------------------------------------------------------


def test_3001_required_field_missing_or_empty() -> None:
    found = check("case", changed("case-discharged", admissionDateTime=None, sex="  "))
    assert ("records[3].admissionDateTime", "3001") in found
    assert ("records[3].sex", "3001") in found


def test_3001_required_when_a_code_asks_for_it() -> None:
    # a drug measure (category 3) needs drug, dose, unit and route
    found = check("prophylaxis", changed("prophylaxis-drug", drugCode=None, route=None))
    assert found == [("records[3].drugCode", "3001"), ("records[3].route", "3001")]


def test_3001_field_required_inside_a_group_item() -> None:
    record = changed("case-discharged")
    del record["diagnoses"][1]["icd10Code"]
    assert check("case", record) == [("records[3].diagnoses[1].icd10Code", "3001")]


def test_3001_an_empty_group_item() -> None:
    record = changed("bleeding-risk-surgical", factors=[{}])
    assert check("bleeding-risk", record) == [
        ("records[3].factors[0]", "3001"),
        ("records[3].factors[0].factorName", "3001"),
    ]


def test_3001_an_item_needs_a_code_or_a_text() -> None:
    record = changed("vte-risk-caprini")
    record["items"][0] = {"itemPoints": 2}
    assert check("vte-risk", record) == [("records[3].items[0].itemName", "3001")]


def test_3001_requires_rule_names_the_missing_field() -> None:
    # a discharged stay states its disposition
    found = check("case", changed("case-discharged", dischargeDisposition=None))
    assert found == [("records[3].dischargeDisposition", "3001")]


def test_3001_contraindication_without_reason() -> None:
    found = check("mech-contraindication", changed("mech-contraindication-yes", reasons=[]))
    assert found == [("records[3].reasons", "3001")]


# -- 3002 type and format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("admissionDateTime", "2026-01-05T09:30:00"),  # ISO form is not the native format
        ("admissionDateTime", "2026-02-30 09:00:00"),  # no such day
        ("birthDate", "19491231"),
        ("patientId", "P 12"),  # pattern
        ("orgCode", 12330100470116614),  # not a string
        ("inpatientNo", "A\x07B"),  # control character
    ],
)
def test_3002_type_and_format(name: str, value: Any) -> None:
    assert check("case", changed("case-discharged", **{name: value})) == [
        (f"records[3].{name}", "3002")
    ]


def test_3002_numbers_booleans_and_ranges() -> None:
    assert check("wells", changed("wells-pe", score="four")) == [("records[3].score", "3002")]
    assert check("wells", changed("wells-pe", score=4.25)) == [
        ("records[3].score", "3002")
    ]  # N..4,1
    assert check("wells", changed("wells-pe", score=13)) == [("records[3].score", "3002")]  # > 12.5
    assert check("organization", changed("organization", hasWellsAssessment="yes")) == [
        ("records[3].hasWellsAssessment", "3002")
    ]


def test_3002_group_that_is_not_a_list_and_items_that_are_not_objects() -> None:
    assert check("case", changed("case-discharged", diagnoses={"icd10Code": "S72.0"})) == [
        ("records[3].diagnoses", "3002")
    ]
    assert check("case", changed("case-discharged", operations=["81.5200"])) == [
        ("records[3].operations[0]", "3002")
    ]


def test_3002_resident_id_of_the_wrong_shape() -> None:
    found = check("case", changed("case-discharged", idNumber="1101051949123100"))
    assert found == [("records[3].idNumber", "3002")]


def test_a_record_that_is_not_an_object() -> None:
    assert check("case", ["not", "an", "object"]) == [("records[3]", "3002")]


# -- 3003 code tables -----------------------------------------------------------------------------


def test_3003_code_not_in_its_table() -> None:
    found = check("case", changed("case-discharged", sex="3", dischargeDisposition="7"))
    assert found == [("records[3].sex", "3003"), ("records[3].dischargeDisposition", "3003")]


def test_numeric_codes_are_accepted_as_integers() -> None:
    assert check("case", changed("case-discharged", sex=2)) == []


# -- 3004 lengths ---------------------------------------------------------------------------------


def test_3004_too_long_and_too_many_items() -> None:
    record = changed("case-discharged", admissionDeptName="科" * 51)
    record["icuStays"] = record["icuStays"] * 11
    assert check("case", record) == [
        ("records[3].admissionDeptName", "3004"),
        ("records[3].icuStays", "3004"),
    ]


# -- 3005 logic -----------------------------------------------------------------------------------


def test_3005_discharge_before_admission() -> None:
    found = check("case", changed("case-discharged", dischargeDateTime="2026-01-05 09:29:59"))
    assert found == [("records[3].dischargeDateTime", "3005")]


def test_3005_inside_a_group_item() -> None:
    record = changed("case-discharged")
    record["operations"][0]["operationEnd"] = "2026-01-07 08:00:00"
    assert check("case", record) == [("records[3].operations[0].operationEnd", "3005")]


@pytest.mark.parametrize(
    ("moment", "rule"),
    [
        ("2026-01-05 09:00:00", "risk-not-before-admission"),
        ("2026-01-19 10:00:01", "risk-not-after-discharge"),
    ],
)
def test_3005_assessment_outside_the_stay_of_its_case(moment: str, rule: str) -> None:
    record = changed("vte-risk-caprini", assessmentDateTime=moment)
    issues = validate_record("vte-risk", record, "records[0]", linked={"caseRecordId": CASE_STAY})
    assert [(i.location, i.native_code, i.rule) for i in issues] == [
        ("records[0].assessmentDateTime", "3005", rule)
    ]
    assert validate_record("vte-risk", record, "records[0]") == []  # no facts: the rule is skipped


def test_3005_item_must_belong_to_the_tool() -> None:
    record = changed("vte-risk-caprini")
    record["items"][1]["itemCode"] = "P01"  # a Padua item in a Caprini assessment
    assert check("vte-risk", record) == [("records[3].items[1].itemCode", "3005")]


def test_3005_wells_interpretation_of_another_scheme() -> None:
    # variant 4 concludes low/moderate/high (1-3), not likely/unlikely (4, 5)
    assert check("wells", changed("wells-pe", interpretation="4")) == [
        ("records[3].interpretation", "3005")
    ]


def test_3005_reasons_without_contraindication() -> None:
    found = check(
        "mech-contraindication", changed("mech-contraindication-yes", contraindicated=False)
    )
    assert found == [("records[3].reasons", "3005")]


def test_3005_admission_rules_of_the_organization() -> None:
    found = check(
        "organization", changed("organization", hospitalGrade="11", hasWellsAssessment=False)
    )
    assert found == [
        ("records[3].hospitalGrade", "3005"),
        ("records[3].hasWellsAssessment", "3005"),
    ]


def test_3005_org_code_must_be_the_senders() -> None:
    found = check("case", changed("case-discharged", orgCode="12330100470116622X"))
    assert found == [("records[3].orgCode", "3005")]


# -- 3007 resident-ID check digit -----------------------------------------------------------------


def test_3007_resident_id_check_digit() -> None:
    found = check("case", changed("case-discharged", idNumber="110105194912310021"))
    assert found == [("records[3].idNumber", "3007")]


def test_other_documents_have_no_check_digit() -> None:
    assert (
        check("case", changed("case-discharged", idType="03", idNumber="110105194912310021")) == []
    )


# -- reporting ------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_and_no_value_is_echoed() -> None:
    record = changed(
        "case-discharged", idNumber="110105194912310021", sex="3", birthDate="bad", orgCode=None
    )
    issues: list[Issue] = validate_record("case", record, "records[0]", envelope={"orgCode": ORG})
    assert sorted(i.native_code for i in issues) == ["3001", "3002", "3003", "3007"]
    text = json.dumps([i.message for i in issues], ensure_ascii=False)
    assert "110105194912310021" not in text and "bad" not in text
    assert all(i.message for i in issues)


def test_prefix_is_optional_for_the_excel_import() -> None:
    issues = validate_record("case", changed("case-discharged", sex="3"), "")
    assert [i.location for i in issues] == ["sex"]


def test_unknown_members_are_warnings(engine: MappingEngine) -> None:
    record = changed("case-discharged")
    record["diagnoses"][0]["extra"] = 1
    found = unknown_fields(engine.record_type("case"), record, "records[0]")
    assert [(i.location, i.severity) for i in found] == [
        ("records[0].vendorExtra", "warning"),
        ("records[0].diagnoses[0].extra", "warning"),
    ]


def _strptime_or_none(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def _parse_or_none(text: str) -> datetime | None:
    try:
        return values.parse_native(text)
    except ValueError:
        return None


def test_native_dates_parse_as_strptime_would_for_every_shaped_text() -> None:
    """The fast parser against the format string, on texts of the right shape: every edge of
    every field, impossible days, and random digits."""
    chooser = random.Random(20261205)
    days = [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y in (1, 1900, 2000, 2024, 2026, 9999)
        for m in range(14)
        for d in (0, 1, 28, 29, 30, 31, 32, 99)
    ]
    days += ["-".join(f"{chooser.randrange(10**n):0{n}d}" for n in (4, 2, 2)) for _ in range(3000)]
    times = [
        f"{h:02d}:{m:02d}:{s:02d}"
        for h in (0, 12, 23, 24, 99)
        for m in (0, 59, 60)
        for s in (0, 59, 60, 61)
    ]
    times += [":".join(f"{chooser.randrange(100):02d}" for _ in range(3)) for _ in range(300)]
    for day in days:
        assert _parse_or_none(day) == _strptime_or_none(day, values.NATIVE_DATE), day
        for time_of_day in chooser.sample(times, 8):
            text = f"{day} {time_of_day}"
            assert _parse_or_none(text) == _strptime_or_none(text, values.NATIVE_DATETIME), text
