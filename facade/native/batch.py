"""Business payloads: bizContent shapes per service, and the checks the gateway owns on each record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from facade.errors import Issue
from facade.native import strictjson
from facade.native.codes import MESSAGES, RECORD_CODES, Code, reject
from facade.native.envelope import ECHOABLE_NAME
from facade.native.processor import IntakeContext, PreparedRecord, RecordProcessor
from facade.native.reply import issue_entries

BATCH_NO = re.compile(r"[A-Za-z0-9_-]{1,64}")
RECORD_ID_MAX = 64
_RECORD_VERSION = re.compile(r"[0-9]{1,9}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class UploadBatch:
    """An upload's bizContent: a batch number and its records (not yet looked at one by one)."""

    batch_no: str
    records: list[Any]


@dataclass
class RecordCheck:
    """One record on its way through validation."""

    index: int
    record_id: str = ""  # "" when missing or malformed: nothing to echo
    version: int = 1
    issues: list[Issue] = field(default_factory=list)
    prepared: PreparedRecord | None = None
    skip_processor: bool = False


def parse_biz(text: str) -> dict[str, Any]:
    """bizContent as a JSON object; 2003 for anything else (bad JSON, duplicate keys, not an object)."""
    try:
        document = strictjson.loads(text)
    except strictjson.DuplicateKey as exc:
        raise reject(Code.BAD_BIZ_CONTENT, "含重复字段", field="bizContent") from exc
    except strictjson.NotPlainJson as exc:
        raise reject(Code.BAD_BIZ_CONTENT, "不是合法 JSON", field="bizContent") from exc
    if not isinstance(document, dict):
        raise reject(Code.BAD_BIZ_CONTENT, "须为 JSON 对象", field="bizContent")
    return document


def _batch_no(document: dict[str, Any]) -> str:
    value = document.get("batchNo")
    if not isinstance(value, str) or not BATCH_NO.fullmatch(value):
        raise reject(
            Code.BAD_BIZ_CONTENT,
            "batchNo 须为 1–64 位字母、数字、_ 或 -",
            field="bizContent.batchNo",
        )
    return value


def _only(document: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        name = unknown[0] if ECHOABLE_NAME.fullmatch(unknown[0]) else "?"
        raise reject(Code.BAD_BIZ_CONTENT, "含未知字段", field=f"bizContent.{name}")


def parse_upload(document: dict[str, Any], max_records: int) -> UploadBatch:
    """``{"batchNo": "...", "records": [...]}`` with 1..max_records records (2003 / 2004)."""
    _only(document, {"batchNo", "records"})
    batch_no = _batch_no(document)
    records = document.get("records")
    if not isinstance(records, list):
        raise reject(Code.BAD_BIZ_CONTENT, "records 须为数组", field="bizContent.records")
    if not 1 <= len(records) <= max_records:
        raise reject(Code.TOO_MANY_RECORDS, f"每批 1–{max_records} 条", field="bizContent.records")
    return UploadBatch(batch_no, records)


def parse_query(document: dict[str, Any]) -> str:
    """``{"batchNo": "..."}`` of VTE.BATCH.QUERY."""
    _only(document, {"batchNo"})
    return _batch_no(document)


def _issue(path: str, code: Code, message: str) -> Issue:
    return Issue(path, code.name.lower(), message, native_code=code.value)


def check_record(index: int, record: Any, max_bytes: int) -> RecordCheck:
    """The protocol's own rules on a record: an object, within size, with usable recordId/recordVersion.

    A record that is not an object or is too large never reaches the processor; otherwise key
    problems are reported alongside the processor's, so every error of a record comes back at once.
    """
    check = RecordCheck(index)
    path = f"records[{index}]"
    if not isinstance(record, dict):
        check.issues.append(_issue(path, Code.BAD_FORMAT, "记录须为 JSON 对象"))
        check.skip_processor = True
        return check
    if len(orjson.dumps(record)) > max_bytes:
        check.issues.append(
            _issue(path, Code.TOO_LONG, f"单条记录不得超过 {max_bytes // 1024} KiB")
        )
        check.skip_processor = True
        return check
    record_id = record.get("recordId")
    if record_id is None or record_id == "":
        check.issues.append(_issue(f"{path}.recordId", Code.FIELD_MISSING, "recordId 必填"))
    elif (
        not isinstance(record_id, str)
        or _CONTROL.search(record_id)
        or record_id != record_id.strip()
    ):
        check.issues.append(
            _issue(
                f"{path}.recordId", Code.BAD_FORMAT, "recordId 须为不含控制字符、首尾无空格的字符串"
            )
        )
    elif len(record_id) > RECORD_ID_MAX:
        check.issues.append(
            _issue(f"{path}.recordId", Code.TOO_LONG, f"recordId 不得超过 {RECORD_ID_MAX} 个字符")
        )
    else:
        check.record_id = record_id
    version = record.get("recordVersion", "1")
    if isinstance(version, int) and not isinstance(version, bool) and 0 <= version < 10**9:
        check.version = version
    elif isinstance(version, str) and _RECORD_VERSION.fullmatch(version):
        check.version = int(version)
    else:
        check.issues.append(
            _issue(f"{path}.recordVersion", Code.BAD_FORMAT, "recordVersion 须为非负整数（字符串）")
        )
    return check


def prepare_record(
    processor: RecordProcessor, context: IntakeContext, index: int, record: Any, max_bytes: int
) -> RecordCheck:
    """The protocol's checks on one record, then the processor's, merged without repeating an issue.

    The record is prepared only when neither side found a problem; a processor that answers with
    no issues or with codes outside 3001-3008 is a programming error (TypeError).
    """
    check = check_record(index, record, max_bytes)
    if check.skip_processor:
        return check
    outcome = processor.prepare(context, index, record)
    if isinstance(outcome, PreparedRecord):
        if not check.issues:
            check.prepared = outcome
        return check
    if not outcome or any(issue.native_code not in RECORD_CODES for issue in outcome):
        raise TypeError(
            "record processor must return a PreparedRecord or issues with codes 3001-3008"
        )
    known = {(issue.location, issue.native_code) for issue in check.issues}
    check.issues.extend(
        issue for issue in outcome if (issue.location, issue.native_code) not in known
    )
    return check


def record_result(check: RecordCheck, status: str, receipt_id: str = "") -> dict[str, Any]:
    """One entry of ``results`` in the order of §2.9: index, recordId, status, code, then receipt or errors."""
    result: dict[str, Any] = {"index": check.index}
    if check.record_id:
        result["recordId"] = check.record_id
    result["status"] = status
    if status == "FAILED":
        first = Code(check.issues[0].native_code)
        result["code"] = first.value
        result["msg"] = MESSAGES[first]
        result["errors"] = issue_entries(check.issues)
        return result
    result["code"] = Code.OK.value
    result["receiptId"] = receipt_id
    warnings = check.prepared.warnings if check.prepared else []
    if warnings:
        result["warnings"] = issue_entries(warnings)
    return result


def batch_payload(batch_no: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The upload reply payload: overall status and counts, then per-record results."""
    failed = sum(1 for r in results if r["status"] == "FAILED")
    succeeded = len(results) - failed
    status = "ALL_SUCCESS" if not failed else "ALL_FAILED" if not succeeded else "PARTIAL"
    return {
        "batchNo": batch_no,
        "status": status,
        "total": len(results),
        "successCount": succeeded,
        "failCount": failed,
        "results": results,
    }
