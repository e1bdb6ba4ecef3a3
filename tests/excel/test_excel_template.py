"""The generated template: sheets per record type and group, drop-downs, text columns, versions."""

from __future__ import annotations

import dataclasses
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from facade.dictionary.loader import Dictionary
from facade.excel.assets import ExcelAssets
from facade.excel.layout import build_layout
from facade.excel.template import build_template, template_filename

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _record_files() -> dict[str, Any]:
    """The dictionary read straight from YAML (not through the facade's loader)."""
    return {
        p.stem: _yaml(p)
        for p in (MAPPINGS / "dictionary").glob("*.yaml")
        if p.name != "_common.yaml"
    }


def _common_fields() -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = _yaml(MAPPINGS / "dictionary" / "_common.yaml")["fields"]
    return fields


def _codes(table_id: str) -> list[str]:
    return [
        str(c["code"]) for c in _yaml(MAPPINGS / "code-tables" / f"{table_id}.yaml")["concepts"]
    ]


@pytest.fixture(scope="module")
def book(template: bytes) -> Workbook:
    return load_workbook(io.BytesIO(template))


def _names_row(ws: Any) -> list[str]:
    return [c.value for c in ws[2] if c.value is not None]


def _validations(ws: Any) -> dict[str, Any]:
    """Data validations by the column letter they cover."""
    return {
        re.match(r"[A-Z]+", str(rng))[0]: dv  # type: ignore[index]
        for dv in ws.data_validations.dataValidation
        for rng in dv.sqref.ranges
    }


def _data_sheets(book: Workbook) -> dict[str, Any]:
    """Data sheets keyed by (recordType, group) as the meta sheet declares them."""
    meta = book["_vte_template"]
    found: dict[str, Any] = {}
    for row in meta.iter_rows(min_row=6, values_only=True):
        if not row[0]:
            break
        found[f"{row[1]}/{row[2] or ''}"] = book[row[0]]
    return found


def test_one_sheet_per_record_type_and_group_plus_dictionary(book: Workbook) -> None:
    records = _record_files()
    sheets = _data_sheets(book)
    expected = {f"{name}/" for name in records} | {
        f"{name}/{g['name']}" for name, r in records.items() for g in r.get("groups", [])
    }
    assert set(sheets) == expected
    for name, record in records.items():
        ws = sheets[f"{name}/"]
        assert ws.title == record["zh"]
        own = [f["name"] for f in _common_fields()] + [f["name"] for f in record["fields"]]
        assert _names_row(ws) == own
        assert ws.row_dimensions[2].hidden
        for group in record.get("groups", []):
            gws = sheets[f"{name}/{group['name']}"]
            assert _names_row(gws) == ["recordId"] + [f["name"] for f in group["fields"]]
            assert gws.title == f"{record['zh']}-{group['zh']}"
    assert "数据字典" in book.sheetnames
    assert book["代码表"].sheet_state == "hidden"
    assert book["_vte_template"].sheet_state == "veryHidden"


def test_headers_carry_chinese_name_field_name_and_required_star(book: Workbook) -> None:
    ws = _data_sheets(book)["case/"]
    headers = {c.value.split(" ")[-1]: c.value for c in ws[1] if c.value}
    assert headers["admissionDateTime"] == "*入院日期时间 admissionDateTime"
    assert headers["dischargeDateTime"] == "出院日期时间 dischargeDateTime"  # optional: no star


def _resolve(book: Workbook, formula: str) -> list[str]:
    """The cell values a list validation offers (through a defined name or a literal list)."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    target = book.defined_names[formula].attr_text
    match = re.fullmatch(
        r"'(?P<sheet>[^']+)'!\$(?P<col>[A-Z]+)\$(?P<a>\d+):\$[A-Z]+\$(?P<b>\d+)", target
    )
    assert match, target
    ws = book[match["sheet"]]
    return [ws[f"{match['col']}{row}"].value for row in range(int(match["a"]), int(match["b"]) + 1)]


def test_every_coded_column_offers_exactly_its_code_table(book: Workbook) -> None:
    records = _record_files()
    sheets = _data_sheets(book)
    checked = 0
    for name, record in records.items():
        groups = [("", record["fields"])] + [
            (g["name"], g["fields"]) for g in record.get("groups", [])
        ]
        for group, fields in groups:
            ws = sheets[f"{name}/{group}"]
            columns = {c.value: c.column_letter for c in ws[2] if c.value}
            validations = _validations(ws)
            for field in fields:
                dv = validations[columns[field["name"]]]
                if "code_table" in field:
                    assert dv.type == "list"
                    offered = [str(v).split(" ")[0] for v in _resolve(book, dv.formula1)]
                    assert offered == _codes(field["code_table"]), field["name"]
                    checked += 1
                elif field["type"] == "boolean":
                    assert _resolve(book, dv.formula1) == ["是", "否"]
                assert str(dv.sqref).endswith("5002")  # rows 3..5002: the per-sheet cap
    assert checked >= 20


def test_identity_code_and_date_columns_are_text(book: Workbook) -> None:
    ws = _data_sheets(book)["case/"]
    columns = {c.value: c.column_letter for c in ws[2] if c.value}
    for name in (
        "idNumber",
        "recordId",
        "patientId",
        "idType",
        "sex",
        "birthDate",
        "admissionDateTime",
    ):
        assert ws.column_dimensions[columns[name]].number_format == "@", name
    assert ws.column_dimensions[columns["recordVersion"]].number_format == "General"
    prompts = {letter: dv.prompt for letter, dv in _validations(ws).items()}
    assert "yyyy-MM-dd HH:mm:ss" in prompts[columns["admissionDateTime"]]
    assert "yyyy-MM-dd" in prompts[columns["birthDate"]]


def test_dictionary_sheet_lists_every_field_with_its_rules(book: Workbook) -> None:
    ws = book["数据字典"]
    rows = {(r[0], r[2]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    sheets = _data_sheets(book)
    for name, record in _record_files().items():
        title = sheets[f"{name}/"].title
        for field in _common_fields() + record["fields"]:
            row = rows[(title, field["name"])]
            assert row[3] == field["zh"]
            assert row[5] == field["type"]
            assert row[7] == ("必填" if field["required"] else row[7])
            if "code_table" in field:
                assert str(row[10]).startswith(field["code_table"])
    id_row = rows[(sheets["case/"].title, "idNumber")]
    assert id_row[8] == 18
    # external code systems are named as people know them, never as a token or a URI
    dept = rows[(sheets["case/"].title, "dischargeDeptCode")]
    assert dept[10] == "本院科室/病区代码（各医院自定）"
    assert not any(
        "${" in str(cell) or "urn:oid" in str(cell)
        for row in ws.iter_rows(min_row=2, values_only=True)
        for cell in row
        if cell is not None
    )


def test_record_sheets_follow_the_clinical_order(book: Workbook) -> None:
    by_title = {ws.title: key for key, ws in _data_sheets(book).items() if key.endswith("/")}
    main = [by_title[title].rstrip("/") for title in book.sheetnames if title in by_title]
    assert main == [
        "organization",
        "case",
        "vte-risk",
        "bleeding-risk",
        "mech-contraindication",
        "prophylaxis",
        "wells",
        "vte-event",
    ]


def test_version_is_in_a_cell_a_defined_name_and_the_file_name(
    book: Workbook, assets: ExcelAssets
) -> None:
    version = assets.layout.version
    assert book["_vte_template"]["B1"].value == version
    assert book.defined_names["VTE_TEMPLATE_VERSION"].attr_text == "'_vte_template'!$B$1"
    assert version in book["填写说明"]["B3"].value
    assert template_filename(assets.layout) == f"vte-import-template-{version}.xlsx"


def test_version_changes_with_the_dictionary(dictionary: Dictionary) -> None:
    before = build_layout(dictionary, 5000).version
    case = dictionary.record_types["case"]
    bumped = dataclasses.replace(
        dictionary,
        record_types={
            **dictionary.record_types,
            "case": case.model_copy(update={"version": case.version + 1}),
        },
    )
    assert build_layout(bumped, 5000).version != before


def test_generation_is_fast(dictionary: Dictionary) -> None:
    started = time.perf_counter()
    body = build_template(dictionary, build_layout(dictionary, 5000))
    elapsed = time.perf_counter() - started
    assert body.startswith(b"PK") and elapsed < 3.0


def test_template_endpoint_serves_a_versioned_attachment(client: TestClient) -> None:
    response = client.get("/vte-x/v1/excel/template")
    assert response.status_code == 200
    version = response.headers["x-vte-template-version"]
    assert (
        f'filename="vte-import-template-{version}.xlsx"' in response.headers["content-disposition"]
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book["_vte_template"]["B1"].value == version
