"""Cell conversion, the formula-injection guard, and mapping record paths back to cells."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, strategies as st

from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field
from facade.excel.assets import ExcelAssets
from facade.excel.convert import ABSENT, convert_cell
from facade.excel.errors_workbook import safe_cell
from facade.excel.locate import Locator
from facade.excel.neutralise import TRIGGERS, neutralise
from facade.excel.reader import ParsedRecord, RowRef


def _field(dictionary: Dictionary, record_type: str, name: str) -> Field:
    record = dictionary.record_types[record_type]
    found = record.field(name) or next(f for g in record.groups for f in g.fields if f.name == name)
    return found


@pytest.mark.parametrize(
    ("name", "value", "data_type", "number_format", "expected", "problem"),
    [
        ("idNumber", 110105194912310021, "n", "General", "110105194912310021", "3002"),
        ("idNumber", 1.10105194912310e17, "n", "General", "110105194912310000", "3002"),
        ("patientId", 123456, "n", "General", "123456", None),
        ("patientId", 123456.0, "n", "General", "123456", None),
        ("patientId", "  P001 ", "s", "General", "P001", None),
        ("patientId", "   ", "s", "General", ABSENT, None),
        ("patientId", "=A1", "f", "General", "=A1", "3002"),
        ("patientId", "#N/A", "e", "General", "#N/A", "3002"),
        ("idType", 1, "n", "General", "01", None),
        ("idType", "01 居民身份证", "s", "@", "01", None),
        ("idType", "居民身份证", "s", "@", "01", None),
        ("idType", "01 护照", "s", "@", "01 护照", None),
        ("recordVersion", 2.0, "n", "General", 2, None),
        ("recordVersion", "2", "s", "@", 2, None),
        ("recordVersion", "two", "s", "@", "two", None),
        ("birthDate", datetime(1956, 3, 14), "d", "yyyy-mm-dd", "1956-03-14", None),
        ("birthDate", date(1956, 3, 14), "d", "yyyy-mm-dd", "1956-03-14", None),
        (
            "admissionDateTime",
            datetime(2026, 1, 5, 9, 30),
            "d",
            "yyyy-mm-dd hh:mm",
            "2026-01-05 09:30:00",
            None,
        ),
        ("admissionDateTime", datetime(2026, 1, 5), "d", "yyyy-mm-dd", "2026-01-05", None),
        ("admissionDateTime", datetime(2026, 1, 5), "d", 'yyyy"年"m"月"d"日"', "2026-01-05", None),
    ],
)
def test_case_cells(
    dictionary: Dictionary,
    name: str,
    value: Any,
    data_type: str,
    number_format: str,
    expected: Any,
    problem: str | None,
) -> None:
    field = _field(dictionary, "case", name)
    table = dictionary.code_tables.get(field.code_table or "")
    converted = convert_cell(field, value, data_type, number_format, table)
    assert converted.value == expected
    assert (converted.problem.code if converted.problem else None) == problem


@pytest.mark.parametrize(
    ("value", "data_type", "expected"),
    [
        (True, "b", True),
        ("是", "s", True),
        ("否", "s", False),
        ("FALSE", "s", False),
        (1, "n", True),
        ("也许", "s", "也许"),
    ],
)
def test_boolean_cells(dictionary: Dictionary, value: Any, data_type: str, expected: Any) -> None:
    field = _field(dictionary, "mech-contraindication", "contraindicated")
    assert convert_cell(field, value, data_type, "General", None).value == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("8", 8), ("8.5", 8.5), (8.5, 8.5), ("8,5", "8,5")]
)
def test_decimal_cells(dictionary: Dictionary, value: Any, expected: Any) -> None:
    field = _field(dictionary, "vte-risk", "totalScore")
    data_type = "n" if isinstance(value, float) else "s"
    assert convert_cell(field, value, data_type, "General", None).value == expected


@given(st.text())
def test_neutralised_text_never_starts_with_a_trigger(text: str) -> None:
    safe = neutralise(text)
    assert not safe.startswith(TRIGGERS)
    assert safe.removeprefix("'") == text or safe == text


def test_safe_cell_keeps_numbers_and_strips_control_characters() -> None:
    assert safe_cell(12) == 12
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("a\x01b") == "ab"
    assert safe_cell("\t=cmd") == "'\t=cmd"


def test_record_paths_map_to_their_cells(assets: ExcelAssets) -> None:
    layout = assets.layout
    case = layout.main_sheet("case")
    diagnoses = next(
        s for s in layout.group_sheets("case") if s.group and s.group.name == "diagnoses"
    )
    parsed = ParsedRecord(
        case.record_type,
        {},
        RowRef(case, 17, {}),
        items={"diagnoses": [RowRef(diagnoses, 40, {}), RowRef(diagnoses, 41, {})]},
    )
    locator = Locator(parsed, layout)
    letters = {c.name: c.letter for c in case.columns}
    dletters = {c.name: c.letter for c in diagnoses.columns}

    def at(path: str) -> tuple[str, int, str]:
        error = locator.error(path, "3002", "m")
        return error.sheet, error.row, error.column

    assert at("records[3].sex") == (case.title, 17, letters["sex"])
    assert at("records[3].diagnoses[1].icd10Code") == (diagnoses.title, 41, dletters["icd10Code"])
    assert at("records[3].diagnoses[0]") == (diagnoses.title, 40, "")
    assert at("records[3].diagnoses") == (diagnoses.title, 40, "")
    assert at("records[3].operations") == (case.title, 17, "")
    assert at("records[3]") == (case.title, 17, "")
    assert at("records[3].mysteryField") == (case.title, 17, "")
    assert (
        locator.error("records[3].sex", "3003", "m")
        .text()
        .startswith(f"第17行 第{letters['sex']}列（性别代码）")
    )
