"""A small, real record processor for the gateway's tests (the production one comes from the dictionary).

It validates a handful of fields with the spec's 3xxx codes and replaces the identity number by
the regional pseudonym, so tests can check field paths, partial batches and that no identity
number is stored in clear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from facade.errors import Issue
from facade.native.processor import IntakeContext, PreparedRecord
from facade.privacy import regional_pseudonym

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FIELDS = {
    "recordId",
    "recordVersion",
    "idType",
    "idNumber",
    "riskLevel",
    "admissionTime",
    "dischargeTime",
    "diagnosis",
    "caseRecordId",
    "locked",
    "explode",
}


def id_check_char(first17: str) -> str:
    """GB 11643 check character of a resident identity number."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


class StubProcessor:
    """Validates the test fields; ``known_cases`` are case recordIds an assessment may refer to."""

    def __init__(self, pseudonym_key: bytes, known_cases: set[str] | None = None) -> None:
        self.key = pseudonym_key
        self.known_cases = known_cases or set()
        self.calls = 0
        self.service_codes = frozenset({"VTE.CASE.UPLOAD", "VTE.ASSESS.UPLOAD"})

    def one_batch(
        self, context: IntakeContext, records: Sequence[Any]
    ) -> AbstractContextManager[None]:
        return nullcontext()

    def prepare(
        self, context: IntakeContext, index: int, record: Mapping[str, Any]
    ) -> PreparedRecord | list[Issue]:
        self.calls += 1
        if record.get("explode"):
            raise RuntimeError(f"processor bug while reading {record.get('idNumber')}")
        path = f"records[{index}]"
        issues: list[Issue] = []

        def add(field: str, code: str, message: str) -> None:
            issues.append(Issue(f"{path}.{field}", "stub", message, native_code=code))

        risk = record.get("riskLevel")
        if risk is None:
            add("riskLevel", "3001", "riskLevel 必填")
        elif risk not in ("1", "2", "3", "4"):
            add("riskLevel", "3003", "取值须为 1/2/3/4")
        admitted, discharged = record.get("admissionTime"), record.get("dischargeTime")
        for name, value in (("admissionTime", admitted), ("dischargeTime", discharged)):
            if value is not None and not (isinstance(value, str) and _DATETIME.fullmatch(value)):
                add(name, "3002", "日期格式须为 yyyy-MM-dd HH:mm:ss")
        if (
            isinstance(admitted, str)
            and isinstance(discharged, str)
            and _DATETIME.fullmatch(admitted)
            and _DATETIME.fullmatch(discharged)
            and discharged < admitted
        ):
            add("dischargeTime", "3005", "出院时间早于入院时间")
        if len(str(record.get("diagnosis", ""))) > 20:
            add("diagnosis", "3004", "不得超过 20 个字符")
        id_number = record.get("idNumber")
        if id_number is not None and (
            not isinstance(id_number, str)
            or len(id_number) != 18
            or id_check_char(id_number[:17]) != id_number[17]
        ):
            add("idNumber", "3007", "身份证件号码校验位错误")
        case = record.get("caseRecordId")
        if context.service_code == "VTE.ASSESS.UPLOAD" and case not in self.known_cases:
            add("caseRecordId", "3006", "引用的住院记录未上报")
        if record.get("locked") == "1":
            add("recordId", "3008", "记录已审核锁定")
        if issues:
            return issues
        payload = {k: v for k, v in record.items() if k in FIELDS and k != "idNumber"}
        if isinstance(id_number, str):
            payload["patientPseudonym"] = regional_pseudonym(
                str(record.get("idType", "01")), id_number, self.key
            )
        warnings = [
            Issue(f"{path}.{k}", "unknown-field", "未知字段，已忽略", native_code="3002")
            for k in sorted(set(record) - FIELDS)
        ]
        return PreparedRecord(payload, warnings)
