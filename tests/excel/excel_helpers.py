"""Helpers of the Excel tests: registered apps, valid generated records, and workbooks filled like a hospital would."""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from facade.db import Database
from facade.native import credentials, orgs
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.tables import IntakeBatch, IntakeRecord
from facade.settings import Settings

_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def uscc() -> str:
    """A random unified social credit code with a correct check character (GB 32100)."""
    first17 = f"12320100{uuid.uuid4().int % 10**8:08d}M"
    total = sum(_USCC.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC[(31 - total % 31) % 31]


def id_check(first17: str) -> str:
    """GB 11643 check character, computed here independently of the facade."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def resident_id(serial: int, birth: str = "19560314") -> str:
    """A well-formed 18-character resident identity number."""
    first17 = f"110105{birth}{serial % 1000:03d}"
    return first17 + id_check(first17)


@dataclass
class Registered:
    """An institution, an app of it and the app's clear secret."""

    org_code: str
    app_id: str
    secret: str


def register(settings: Settings, database: Database, *, services: Sequence[str] = ()) -> Registered:
    """Register an institution and issue an app (every sign type)."""
    code = uscc()
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        orgs.add_org(session, code, "测试医院", grade="31", fhir_id="test")
        issued = credentials.issue_app(session, box, code, name="VTE 系统", services=services)
    return Registered(code, issued.app_id, issued.secret)


def stored_counts(database: Database) -> tuple[int, int]:
    """(batches, receipts) in the facade database."""
    with database.session() as session:
        batches = session.scalar(select(func.count()).select_from(IntakeBatch)) or 0
        records = session.scalar(select(func.count()).select_from(IntakeRecord)) or 0
    return batches, records


def valid_case(number: int, org_code: str) -> dict[str, Any]:
    """A case record every rule of the dictionary accepts."""
    return {
        "recordId": f"ZY{number:06d}",
        "recordVersion": 1,
        "orgCode": org_code,
        "patientId": f"P{number:07d}",
        "idType": "01",
        "idNumber": resident_id(number),
        "sex": "1" if number % 2 else "2",
        "birthDate": "1956-03-14",
        "inpatientNo": f"{2026000000 + number}",
        "admissionDateTime": "2026-01-05 09:30:00",
        "dischargeDateTime": "2026-01-19 10:00:00",
        "admissionDeptCode": "0301",
        "admissionDeptName": "骨科",
        "dischargeDisposition": "1",
    }


def valid_diagnosis(record_id: str) -> dict[str, Any]:
    """A diagnosis row of the group sheet, linked to ``record_id``."""
    return {
        "recordId": record_id,
        "diagnosisType": "1",
        "icd10Code": "S72.000",
        "diagnosisName": "股骨颈骨折",
        "admissionCondition": "1",
    }


def fill(template: bytes, sheets: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """The template with rows written from row 3, columns found by the field names in (hidden) row 2.

    Values are written as given: a str starting with "=" becomes a real formula cell, numbers stay
    numbers, so tests can reproduce what Excel users do.
    """
    workbook = load_workbook(io.BytesIO(template))
    for title, rows in sheets.items():
        ws = workbook[title]
        columns = {cell.value: cell.column for cell in ws[2] if cell.value}
        for offset, row in enumerate(rows):
            for name, value in row.items():
                ws.cell(3 + offset, columns[name], value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def shuffled(items: list[Any], seed: int = 7) -> list[Any]:
    """A deterministic shuffle (tests pick bad rows at random but reproducibly)."""
    copy = list(items)
    random.Random(seed).shuffle(copy)
    return copy
