"""A 2,000-row workbook with a few bad cells: good rows get receipts, each bad cell is reported with its code."""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from excel_helpers import (
    Registered,
    fill,
    register,
    resident_id,
    stored_counts,
    valid_case,
    valid_diagnosis,
)
from excel_processor import production
from openpyxl import load_workbook
from sqlalchemy import select

from facade.db import Database
from facade.dictionary.loader import Dictionary
from facade.errors import Forbidden
from facade.excel.assets import ExcelAssets
from facade.excel.importer import Importer
from facade.excel.imports import ImportLog, SavedImport, import_workbook
from facade.native.tables import IntakeRecord
from facade.settings import Settings

REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger("tests.excel")  # figures: pytest --log-cli-level=INFO
ROWS = 2000
CASE = "住院病例"
DIAGNOSES = "住院病例-出院诊断"


def _yaml(path: str) -> Any:
    return yaml.safe_load((REPO / "mappings" / path).read_text(encoding="utf-8"))


def _letters(template: bytes, sheet: str) -> dict[str, str]:
    """Column letters by field name, read from the template's hidden row 2."""
    ws = load_workbook(io.BytesIO(template))[sheet]
    return {c.value: c.column_letter for c in ws[2] if c.value}


@dataclass
class Workbook2000:
    """The generated file and what the test expects of it, computed without the facade."""

    data: bytes
    expected: set[tuple[str, int, str, str]]  # (sheet, row, column, code)
    failed_records: set[str]
    formula_row: int
    failed_ids: list[str]


def _build(template: bytes, org_code: str) -> Workbook2000:
    cases = [valid_case(n, org_code) for n in range(1, ROWS + 1)]
    diagnoses = [valid_diagnosis(c["recordId"]) for c in cases]
    col = _letters(template, CASE)
    dcol = _letters(template, DIAGNOSES)
    expected: set[tuple[str, int, str, str]] = set()

    def bad(index: int, field: str, value: Any, code: str) -> None:
        cases[index][field] = value
        expected.add((CASE, 3 + index, col[field], code))

    good_id = cases[10]["idNumber"]
    wrong_check = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    bad(10, "idNumber", wrong_check, "3007")
    sex_codes = {str(c["code"]) for c in _yaml("code-tables/gbt-2261-1-sex.yaml")["concepts"]}
    assert "Q" not in sex_codes
    bad(250, "sex", "Q", "3003")
    bad(400, "birthDate", "1956/03/14", "3002")
    bad(777, "admissionDateTime", None, "3001")
    limit = next(
        f["max_length"]
        for f in _yaml("dictionary/case.yaml")["fields"]
        if f["name"] == "admissionDeptName"
    )
    bad(1200, "admissionDeptName", "科" * (limit + 1), "3004")
    formula = '=HYPERLINK("http://evil.example/x","点我")'
    bad(1500, "patientId", formula, "3002")
    bad(
        1600, "idNumber", int(resident_id(1600)), "3002"
    )  # typed as a number: Excel keeps 15 digits
    bad(1700, "dischargeDateTime", "2026-01-01 08:00:00", "3005")  # before admission
    # A repeated recordId: both rows are reported, both records rejected.
    cases[1801]["recordId"] = cases[1800]["recordId"]
    diagnoses[1801]["recordId"] = cases[1800]["recordId"]
    expected.add((CASE, 3 + 1800, col["recordId"], "3005"))
    expected.add((CASE, 3 + 1801, col["recordId"], "3005"))
    # A diagnosis code breaking the ICD-10 pattern: its case is rejected.
    diagnoses[1900]["icd10Code"] = "XYZ"
    expected.add((DIAGNOSES, 3 + 1900, dcol["icd10Code"], "3002"))
    # A diagnosis row naming no case of the file.
    diagnoses.append(valid_diagnosis("NOPE000001"))
    expected.add((DIAGNOSES, 3 + ROWS, dcol["recordId"], "3006"))
    for row in cases:
        if row.get("admissionDateTime") is None:
            row.pop("admissionDateTime", None)
    failed = {cases[i]["recordId"] for i in (10, 250, 400, 777, 1200, 1500, 1600, 1700, 1800, 1900)}
    data = fill(template, {CASE: cases, DIAGNOSES: diagnoses})
    failed_ids = [
        cases[i]["idNumber"] for i in (10, 250, 400) if isinstance(cases[i]["idNumber"], str)
    ]
    return Workbook2000(data, expected, failed, 3 + 1500, failed_ids)


@pytest.fixture(scope="module")
def org_and_file(template: bytes) -> tuple[str, Workbook2000]:
    from excel_helpers import uscc

    org = uscc()
    return org, _build(template, org)


def _import(
    data: bytes,
    registered: Registered,
    assets: ExcelAssets,
    settings: Settings,
    database: Database,
    processor: Any,
) -> SavedImport:
    return import_workbook(
        data,
        importer=Importer(registered.app_id, registered.org_code),
        assets=assets,
        settings=settings,
        database=database,
        processor=processor,
        source="api",
        filename="cases.xlsx",
    )


@pytest.fixture
def own_app(
    settings: Settings, database: Database, org_and_file: tuple[str, Workbook2000]
) -> Registered:
    from facade.native import credentials, orgs
    from facade.native.sealing import APP_SECRETS, SecretBox

    org, _ = org_and_file
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        orgs.add_org(session, org, "测试医院", grade="31", fhir_id="test")
        issued = credentials.issue_app(session, box, org, name="VTE 系统")
    return Registered(org, issued.app_id, issued.secret)


def test_2000_rows_with_bad_cells(
    org_and_file: tuple[str, Workbook2000],
    own_app: Registered,
    assets: ExcelAssets,
    dictionary: Dictionary,
    settings: Settings,
    database: Database,
) -> None:
    _, book = org_and_file
    processor = production(settings, database)
    started = time.perf_counter()
    saved = _import(book.data, own_app, assets, settings, database, processor)
    elapsed = time.perf_counter() - started
    summary = saved.summary
    log.info(
        f"import of {ROWS} case rows + {ROWS + 1} diagnosis rows: {elapsed:.2f} s, {ROWS / elapsed:.0f} records/s"
    )

    reported = {(e["sheet"], e["row"], e["column"], e["code"]) for e in summary["errors"]}
    assert reported == book.expected
    assert summary["status"] == "PARTIAL"
    assert summary["total"] == ROWS
    assert summary["failCount"] == len(book.failed_records) + 1  # the duplicated id fails twice
    assert summary["successCount"] == ROWS - summary["failCount"]
    assert summary["orphanRows"] == 1
    results = summary["results"]
    accepted = [r for r in results if r["status"] == "SUCCESS"]
    assert all(r["receiptId"].startswith("R") for r in accepted)
    assert not {r["recordId"] for r in accepted} & book.failed_records
    with database.session() as session:
        stored = set(session.scalars(select(IntakeRecord.receipt_id)))
        payloads = [bytes(p or b"") for p in session.scalars(select(IntakeRecord.payload_sealed))]
    assert stored == {r["receiptId"] for r in accepted}
    # Identity numbers never reach the store in clear (payloads are sealed, and pseudonymised inside).
    assert not any(resident_id(2).encode() in p for p in payloads)
    assert elapsed < 60  # seconds, not minutes (typically a few seconds)

    # The error workbook: every error listed; rejected rows echoed with formulas neutralised.
    assert saved.error_workbook is not None
    errors_book = load_workbook(io.BytesIO(saved.error_workbook))
    listed = {
        (r[0], r[1], r[2], r[5])
        for r in errors_book["错误清单"].iter_rows(min_row=2, values_only=True)
    }
    assert listed == book.expected
    rows_sheet = errors_book[CASE]
    header = [c.value for c in rows_sheet[1]]
    patient_col = header.index(next(h for h in header if h and h.endswith(" patientId"))) + 1
    formula_cells = [
        rows_sheet.cell(r, patient_col)
        for r in range(2, rows_sheet.max_row + 1)
        if rows_sheet.cell(r, 1).value == book.formula_row
    ]
    assert len(formula_cells) == 1
    assert formula_cells[0].data_type == "s"
    assert formula_cells[0].value.startswith("'=HYPERLINK(")
    text = "\n".join(
        str(v)
        for ws in errors_book.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    )
    for clear in book.failed_ids:
        assert clear not in text
    assert "（已隐去）" in text


def test_reimporting_the_same_file_is_idempotent(
    template: bytes,
    registered: Registered,
    assets: ExcelAssets,
    settings: Settings,
    database: Database,
) -> None:
    cases = [valid_case(n, registered.org_code) for n in range(1, 301)]
    cases[17]["sex"] = "Q"
    data = fill(template, {CASE: cases, DIAGNOSES: [valid_diagnosis("NOPE000001")]})
    settings = settings.model_copy(update={"excel_batch_size": 100})
    processor = production(settings, database)
    first = _import(data, registered, assets, settings, database, processor)
    assert (first.summary["successCount"], first.summary["failCount"]) == (299, 1)
    counts = stored_counts(database)
    assert counts == (3, 299)
    calls = processor.calls
    started = time.perf_counter()
    second = _import(data, registered, assets, settings, database, processor)
    log.info(f"re-import of 300 rows (batches replayed): {time.perf_counter() - started:.2f} s")
    assert stored_counts(database) == counts
    assert processor.calls == calls  # stored batches are replayed, nothing is validated again
    assert second.import_id == first.import_id
    # the second answer says it is a replay, of the same content, first received back then
    assert (first.summary["replayed"], second.summary["replayed"]) == (False, True)
    assert second.summary["firstReceivedAt"] == first.summary["firstReceivedAt"]
    strip = {"errorWorkbook", "replayed"}
    assert {k: v for k, v in second.summary.items() if k not in strip} == {
        k: v for k, v in first.summary.items() if k not in strip
    }
    assert second.error_workbook is not None


def test_edited_file_reports_unchanged_records_as_duplicates(
    template: bytes,
    registered: Registered,
    assets: ExcelAssets,
    dictionary: Dictionary,
    settings: Settings,
    database: Database,
) -> None:
    processor = production(settings, database)
    cases = [valid_case(n, registered.org_code) for n in range(1, 6)]
    first = _import(
        fill(template, {CASE: cases}), registered, assets, settings, database, processor
    )
    assert first.summary["successCount"] == 5
    cases[2]["recordVersion"] = 2
    cases[2]["admissionDeptName"] = "普外科"
    second = _import(
        fill(template, {CASE: cases}), registered, assets, settings, database, processor
    )
    statuses = [r["status"] for r in second.summary["results"]]
    assert statuses == ["DUPLICATE", "DUPLICATE", "SUCCESS", "DUPLICATE", "DUPLICATE"]
    assert second.import_id != first.import_id
    assert stored_counts(database)[1] == 6


def test_a_processor_fault_stores_nothing(
    template: bytes,
    registered: Registered,
    assets: ExcelAssets,
    dictionary: Dictionary,
    settings: Settings,
    database: Database,
) -> None:
    cases = [valid_case(n, registered.org_code) for n in range(1, 251)]
    settings = settings.model_copy(update={"excel_batch_size": 100})
    processor = production(settings, database, explode_on="ZY000230")  # in the third batch
    with pytest.raises(RuntimeError):
        _import(fill(template, {CASE: cases}), registered, assets, settings, database, processor)
    assert stored_counts(database) == (0, 0)


def test_an_app_limited_to_other_services_is_refused(
    template: bytes,
    assets: ExcelAssets,
    dictionary: Dictionary,
    settings: Settings,
    database: Database,
) -> None:
    limited = register(settings, database, services=("VTE.PREVENT.UPLOAD",))
    processor = production(settings, database)
    data = fill(template, {CASE: [valid_case(1, limited.org_code)]})
    with database.session() as session:
        from facade.native.credentials import load_access

        access = load_access(session, limited.app_id)
    assert access is not None
    with pytest.raises(Forbidden) as refused:
        import_workbook(
            data,
            importer=Importer(limited.app_id, limited.org_code, access.allows_service),
            assets=assets,
            settings=settings,
            database=database,
            processor=processor,
            source="api",
        )
    assert refused.value.issues[0].native_code == "1003"
    assert stored_counts(database) == (0, 0)


def test_error_workbook_expires_and_is_wiped(
    template: bytes,
    registered: Registered,
    assets: ExcelAssets,
    dictionary: Dictionary,
    settings: Settings,
    database: Database,
) -> None:
    from datetime import UTC, datetime, timedelta

    from facade.errors import NotFound

    processor = production(settings, database)
    cases = [valid_case(1, registered.org_code), {**valid_case(2, registered.org_code), "sex": "Q"}]
    saved = _import(
        fill(template, {CASE: cases}), registered, assets, settings, database, processor
    )
    import_log = ImportLog(settings, database)
    assert import_log.error_workbook(saved.import_id, registered.org_code).startswith(b"PK")
    with pytest.raises(NotFound):
        import_log.error_workbook(saved.import_id, "12320100000000000X")  # another institution
    later = datetime.now(UTC) + timedelta(hours=settings.excel_error_workbook_ttl_hours + 1)
    assert import_log.purge_expired(later) == 1
    with pytest.raises(NotFound):
        import_log.error_workbook(saved.import_id, registered.org_code)


def test_cases_and_their_assessments_in_one_workbook(
    template: bytes,
    registered: Registered,
    assets: ExcelAssets,
    settings: Settings,
    database: Database,
) -> None:
    risk_sheet = assets.layout.main_sheet("vte-risk").title
    cases = [valid_case(n, registered.org_code) for n in range(1, 4)]
    risks: list[dict[str, Any]] = [
        {
            "recordId": f"RA{n:04d}",
            "recordVersion": 1,
            "caseRecordId": case["recordId"],
            "assessmentTool": "1",
            "timingPoint": "1",
            "assessmentDateTime": "2026-01-05 15:10:00",
            "totalScore": 8,
            "riskLevel": "4",
        }
        for n, case in enumerate(cases, start=1)
    ]
    risks.append({**risks[0], "recordId": "RA0009", "caseRecordId": "ZY999999"})  # never sent
    risks.append({**risks[1], "recordId": "RA0010", "assessmentDateTime": "2026-01-04 08:00:00"})
    broken = {**valid_case(4, registered.org_code), "sex": "Q"}  # its row (6) is rejected
    risks.append({**risks[2], "recordId": "RA0011", "caseRecordId": broken["recordId"]})
    data = fill(template, {CASE: [*cases, broken], risk_sheet: risks})
    saved = _import(data, registered, assets, settings, database, production(settings, database))
    col = _letters(template, risk_sheet)
    reported = {
        (e["sheet"], e["row"], e["column"], e["code"]): e["message"]
        for e in saved.summary["errors"]
        if e["sheet"] == risk_sheet
    }
    assert set(reported) == {
        (risk_sheet, 6, col["caseRecordId"], "3006"),
        (risk_sheet, 7, col["assessmentDateTime"], "3005"),
        (risk_sheet, 8, col["caseRecordId"], "3006"),
    }
    # 3006 speaks of sheets and rows, not of services; logic rules speak Chinese
    never_sent = reported[(risk_sheet, 6, col["caseRecordId"], "3006")]
    assert f"“{CASE}”工作表" in never_sent and "VTE.CASE.UPLOAD" not in never_sent
    assert f"“{CASE}”工作表第 6 行" in reported[(risk_sheet, 8, col["caseRecordId"], "3006")]
    date_order = reported[(risk_sheet, 7, col["assessmentDateTime"], "3005")]
    assert date_order.startswith("逻辑校验失败：评估时间不得早于所属住院的入院时间")
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", date_order)  # no English prose
    per_sheet = {
        s["recordType"]: (s["successCount"], s["failCount"]) for s in saved.summary["sheets"]
    }
    assert per_sheet == {"case": (3, 1), "vte-risk": (3, 3)}
