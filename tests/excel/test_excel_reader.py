"""File-level checks and parsing: caps, macros, DTDs, header rows, unknown sheets, formulas, group links."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from excel_helpers import fill, uscc, valid_case, valid_diagnosis
from openpyxl import Workbook, load_workbook

from facade.dictionary.loader import Dictionary
from facade.errors import InvalidInput, PayloadTooLarge
from facade.excel.assets import ExcelAssets
from facade.excel.container import Limits
from facade.excel.reader import read_workbook

CASE = "住院病例"
DIAGNOSES = "住院病例-出院诊断"
LIMITS = Limits(10 * 1024 * 1024, 150 * 1024 * 1024, 5000, 1_000_000)


def _read(
    data: bytes,
    assets: ExcelAssets,
    dictionary: Dictionary,
    limits: Limits = LIMITS,
    filename: str | None = None,
):  # type: ignore[no-untyped-def]
    return read_workbook(data, assets.layout, dictionary, limits, filename=filename)


def _rezip(
    data: bytes, extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None
) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(
                item.filename, (replace or {}).get(item.filename, source.read(item.filename))
            )
        for name, body in (extra or {}).items():
            target.writestr(name, body)
    return out.getvalue()


def _rule(error: InvalidInput | PayloadTooLarge) -> str:
    return error.issues[0].rule


def test_formula_cells_are_read_as_text_and_flagged_never_evaluated(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    case = valid_case(1, uscc())
    case["inpatientNo"] = "=1+1"
    parsed = _read(fill(template, {CASE: [case]}), assets, dictionary)
    record = parsed.records["case"][0]
    assert record.record["inpatientNo"] == "=1+1"  # the formula text, not 2
    assert [(path, p.code) for path, p in record.problems] == [("inpatientNo", "3002")]


def test_excel_typing_is_undone_where_it_is_known(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    case = valid_case(1, uscc())
    case.update(
        idType=1,  # Excel turned "01" into 1
        sex="2 女性",  # picked from the drop-down ("代码 名称")
        idNumber=f" {valid_case(1, 'x')['idNumber']} ",
        birthDate=datetime(1956, 3, 14),  # a real date cell
        admissionDateTime=datetime(2026, 1, 5, 9, 30),
        recordVersion="3",
    )
    parsed = _read(fill(template, {CASE: [case]}), assets, dictionary)
    record = parsed.records["case"][0].record
    assert record["idType"] == "01"
    assert record["sex"] == "2"
    assert record["idNumber"] == valid_case(1, "x")["idNumber"]  # surrounding spaces trimmed
    assert record["birthDate"] == "1956-03-14"
    assert record["recordVersion"] == 3
    # openpyxl writes a datetime with a date-and-time format, so the time survives
    assert record["admissionDateTime"] == "2026-01-05 09:30:00"


def test_a_label_that_does_not_match_its_code_is_left_for_the_validator(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    case = {**valid_case(1, uscc()), "sex": "2 男性", "dischargeDisposition": "死亡"}
    record = _read(fill(template, {CASE: [case]}), assets, dictionary).records["case"][0].record
    assert record["sex"] == "2 男性"
    assert record["dischargeDisposition"] in ("5", "死亡")  # by name only when one code has it


def test_group_rows_join_their_record_and_orphans_are_reported(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    org = uscc()
    cases = [valid_case(1, org), valid_case(2, org)]
    diagnoses = [
        valid_diagnosis("ZY000002"),
        valid_diagnosis("ZY000001"),
        valid_diagnosis("ZY000002"),
    ]
    diagnoses[2]["diagnosisType"] = "2"
    diagnoses.append({**valid_diagnosis("ZY000009")})
    diagnoses.append({k: v for k, v in valid_diagnosis("x").items() if k != "recordId"})
    parsed = _read(fill(template, {CASE: cases, DIAGNOSES: diagnoses}), assets, dictionary)
    first, second = parsed.records["case"]
    assert len(first.record["diagnoses"]) == 1
    assert [d["diagnosisType"] for d in second.record["diagnoses"]] == ["1", "2"]
    assert [r.row for r in second.items["diagnoses"]] == [3, 5]
    assert [(o.ref.row, o.column.letter, o.problem.code) for o in parsed.orphans] == [
        (6, "A", "3006"),
        (7, "A", "3001"),
    ]


def test_empty_rows_are_skipped_and_row_numbers_kept(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    org = uscc()
    book = load_workbook(io.BytesIO(fill(template, {CASE: [valid_case(1, org)]})))
    ws = book[CASE]
    columns = {c.value: c.column for c in ws[2] if c.value}
    for name, value in valid_case(2, org).items():
        ws.cell(10, columns[name], value)
    ws["B7"].number_format = "0.00"  # a formatted but empty cell: not a row
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = _read(buffer.getvalue(), assets, dictionary)
    assert [r.main.row for r in parsed.records["case"]] == [3, 10]


def test_row_cap_per_sheet(template: bytes, assets: ExcelAssets, dictionary: Dictionary) -> None:
    org = uscc()
    data = fill(template, {CASE: [valid_case(n, org) for n in range(1, 12)]})
    with pytest.raises(PayloadTooLarge) as refused:
        _read(
            data,
            assets,
            dictionary,
            Limits(LIMITS.max_file_bytes, LIMITS.max_uncompressed_bytes, 10, 10**6),
        )
    assert _rule(refused.value) == "rows-per-sheet"
    assert "10 行" in refused.value.message and CASE in refused.value.message
    _read(
        data,
        assets,
        dictionary,
        Limits(LIMITS.max_file_bytes, LIMITS.max_uncompressed_bytes, 11, 10**6),
    )


def test_cell_cap(template: bytes, assets: ExcelAssets, dictionary: Dictionary) -> None:
    data = fill(template, {CASE: [valid_case(n, uscc()) for n in range(1, 4)]})
    with pytest.raises(PayloadTooLarge) as refused:
        _read(
            data,
            assets,
            dictionary,
            Limits(LIMITS.max_file_bytes, LIMITS.max_uncompressed_bytes, 5000, 20),
        )
    assert _rule(refused.value) == "cells"


def test_file_size_and_zip_bomb_caps(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        _read(template, assets, dictionary, Limits(len(template) - 1, 10**9, 5000, 10**6))
    assert _rule(refused.value) == "file-size"
    bomb = _rezip(template, extra={"xl/media/padding.xml": b"<a>" + b" " * 20_000_000 + b"</a>"})
    assert len(bomb) < 1_000_000
    with pytest.raises(PayloadTooLarge) as refused:
        _read(bomb, assets, dictionary, Limits(10**7, 10 * 1024 * 1024, 5000, 10**6))
    assert _rule(refused.value) == "uncompressed-size"


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda t: b"", "empty-file"),
        (lambda t: b"\xd0\xcf\x11\xe0" + b"\0" * 100, "file-type"),
        (lambda t: b"name,sex\n", "file-type"),
        (lambda t: _rezip(t, extra={"xl/vbaProject.bin": b"\0" * 10}), "macro-workbook"),
        (
            lambda t: _rezip(
                t,
                replace={
                    "xl/workbook.xml": b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                    + zipfile.ZipFile(io.BytesIO(t)).read("xl/workbook.xml")
                },
            ),
            "xml-dtd",
        ),
    ],
)
def test_unsafe_or_foreign_files_are_refused(
    template: bytes,
    assets: ExcelAssets,
    dictionary: Dictionary,
    mutate,
    rule: str,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _read(mutate(template), assets, dictionary)
    assert _rule(refused.value) == rule


def test_macro_file_names_are_refused(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _read(template, assets, dictionary, filename="病例.xlsm")
    assert _rule(refused.value) == "macro-workbook"


def test_a_workbook_not_made_from_the_template_is_refused(
    assets: ExcelAssets, dictionary: Dictionary
) -> None:
    book = Workbook()
    book.active["A1"] = "recordId"  # type: ignore[index]
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(InvalidInput) as refused:
        _read(buffer.getvalue(), assets, dictionary)
    assert _rule(refused.value) == "not-template"


def test_an_altered_header_row_names_the_column(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    book = load_workbook(io.BytesIO(fill(template, {CASE: [valid_case(1, uscc())]})))
    book[CASE]["C2"] = "somethingElse"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(InvalidInput) as refused:
        _read(buffer.getvalue(), assets, dictionary)
    assert _rule(refused.value) == "header-mismatch"
    assert "C 列应为 orgCode" in refused.value.message


def test_an_added_sheet_with_data_is_refused_an_empty_one_ignored(
    template: bytes, assets: ExcelAssets, dictionary: Dictionary
) -> None:
    book = load_workbook(io.BytesIO(fill(template, {CASE: [valid_case(1, uscc())]})))
    book.create_sheet("草稿")
    buffer = io.BytesIO()
    book.save(buffer)
    assert _read(buffer.getvalue(), assets, dictionary).records["case"]
    book["草稿"]["B4"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(InvalidInput) as refused:
        _read(buffer.getvalue(), assets, dictionary)
    assert _rule(refused.value) == "unknown-sheet" and "草稿" in refused.value.message
