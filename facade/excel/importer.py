"""Import a workbook through the native intake: the same record checks, processor, batches and receipts as the gateway.

A workbook becomes one or more intake batches per record type (``settings.excel_batch_size``
records each). Batch numbers derive from the file's SM3 digest and the template version, so
uploading the same file again replays the stored batches instead of storing anything twice, and
the records of an edited file come back DUPLICATE when unchanged. Record types go in reference
order (a case is stored before the assessments that name it); every record of a type is
validated before its first batch is stored, so a processor fault stores none of that type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from facade.db import Database
from facade.dictionary.loader import Dictionary
from facade.errors import Forbidden, Issue
from facade.excel.container import Limits, reject
from facade.excel.layout import Layout
from facade.excel.locate import CellError, Locator, orphan_error
from facade.excel.reader import ParsedRecord, ParsedWorkbook, RowRef, read_workbook
from facade.mapping.rules import linked_record_type
from facade.native.batch import RecordCheck, prepare_record
from facade.native.intake import IntakeStore, sm3_hex
from facade.native.processor import IntakeContext, RecordProcessor
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.quality.recorder import QualityRecorder
from facade.settings import Settings

# Called with the stage ("read", "validate", "store"), the count done and the total (None: unknown).
Progress = Callable[[str, int, int | None], None]


def _quiet(_stage: str, _done: int, _total: int | None) -> None:
    """The default progress callback."""


@dataclass(frozen=True)
class Importer:
    """Who the records are imported for: an app of an institution, as the gateway would see it."""

    app_id: str
    org_code: str
    allows_service: Callable[[str], bool] = lambda _service: True


@dataclass
class RecordOutcome:
    """What became of one record (a main-sheet row and its group rows)."""

    parsed: ParsedRecord
    batch_no: str
    status: str  # SUCCESS | DUPLICATE | FAILED
    receipt_id: str = ""
    errors: list[CellError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The summary entry (no field values beyond the record's own key)."""
        entry: dict[str, Any] = {
            "sheet": self.parsed.main.sheet.title,
            "row": self.parsed.main.row,
            "recordType": self.parsed.record_type.record_type,
            "status": self.status,
        }
        record_id = self.parsed.record.get("recordId")
        if isinstance(record_id, str) and record_id:
            entry["recordId"] = record_id
        if self.receipt_id:
            entry["receiptId"] = self.receipt_id
        return entry


@dataclass
class ImportResult:
    """The outcome of one workbook import, before it is summarised or written as an error workbook."""

    file_digest: str
    template_version: str
    template_current: bool
    outcomes: list[RecordOutcome]
    orphans: list[tuple[RowRef, CellError]]
    batches: list[str]
    rows: int
    replayed: bool = False  # every batch had been received before: nothing was stored again

    @property
    def errors(self) -> list[CellError]:
        """Every problem found, in sheet, row and column order."""
        found = [e for o in self.outcomes for e in o.errors] + [e for _, e in self.orphans]
        return sorted(found, key=lambda e: e.sort_key)

    def counts(self) -> dict[str, int]:
        """Records by status, plus group rows that belonged to no record."""
        statuses = [o.status for o in self.outcomes]
        return {
            "total": len(statuses),
            "successCount": statuses.count("SUCCESS"),
            "duplicateCount": statuses.count("DUPLICATE"),
            "failCount": statuses.count("FAILED"),
            "orphanRows": len(self.orphans),
        }

    @property
    def status(self) -> str:
        """ALL_SUCCESS, PARTIAL or ALL_FAILED, as a gateway batch reports it."""
        counts = self.counts()
        failed = counts["failCount"] + counts["orphanRows"]
        if not failed:
            return "ALL_SUCCESS"
        return "ALL_FAILED" if failed and counts["total"] == counts["failCount"] else "PARTIAL"


@dataclass
class _Chunk:
    context: IntakeContext
    records: list[ParsedRecord]
    digest: str
    reply: str | None = None
    checks: list[RecordCheck] = field(default_factory=list)


def run_import(
    data: bytes,
    *,
    importer: Importer,
    dictionary: Dictionary,
    layout: Layout,
    settings: Settings,
    database: Database,
    processor: RecordProcessor,
    filename: str | None = None,
    progress: Progress | None = None,
    accepted: Callable[[], None] | None = None,
) -> ImportResult:
    """Read, validate and store a workbook; InvalidInput/PayloadTooLarge/Forbidden refuse the whole file."""
    report = progress or _quiet
    limits = Limits(
        settings.excel_max_file_bytes,
        settings.excel_max_uncompressed_bytes,
        settings.excel_max_rows_per_sheet,
        settings.excel_max_cells,
    )
    parsed = read_workbook(
        data,
        layout,
        dictionary,
        limits,
        filename=filename,
        progress=lambda n: report("read", n, None),
    )
    if not parsed.records and not parsed.orphans:
        raise reject("工作簿中没有数据行", "no-data")
    for name in parsed.records:
        service = dictionary.record_types[name].service_code
        if not importer.allows_service(service):
            sheet = layout.main_sheet(name).title
            message = f"该应用未获授权上报“{sheet}”（{service}）"
            raise Forbidden(message, issues=[Issue("file", "service", message, native_code="1003")])
    digest = sm3_hex(data)
    store = IntakeStore(
        database,
        SecretBox.for_purpose(settings, RECORD_PAYLOADS),
        QualityRecorder.for_settings(settings),
        accepted=accepted,
    )
    chunks = _chunks(parsed, layout, importer, digest, settings.excel_batch_size)
    total = sum(len(c.records) for c in chunks)
    validated = stored = 0
    outcomes: list[RecordOutcome] = []
    placed: dict[tuple[str, str], RecordOutcome] = {}  # (record type, recordId) of this file
    for kind in layout.record_types:
        # Record types in reference order (cases before their assessments): the processor finds
        # a linked record only once its batch is stored. Within a type, every record is
        # validated before the first batch is stored, so a processor fault stores none of them.
        own = [c for c in chunks if c.context.service_code == kind.service_code]
        for chunk in own:
            chunk.reply = store.stored_reply(importer.app_id, chunk.context.batch_no, chunk.digest)
            if chunk.reply is None:
                with processor.one_batch(chunk.context, [r.record for r in chunk.records]):
                    chunk.checks = [
                        _check(
                            processor,
                            chunk.context,
                            index,
                            record,
                            settings.native_max_record_bytes,
                        )
                        for index, record in enumerate(chunk.records)
                    ]
                for check, record in zip(chunk.checks, chunk.records, strict=True):
                    check.issues = [_in_sheets(i, record, layout, placed) for i in check.issues]
            validated += len(chunk.records)
            report("validate", validated, total)
        for chunk in own:
            reply = chunk.reply or store.store(chunk.context, chunk.digest, chunk.checks)
            done = _outcomes(chunk, orjson.loads(reply), layout)
            outcomes.extend(done)
            for outcome in done:
                record_id = outcome.parsed.record.get("recordId")
                if isinstance(record_id, str):
                    placed[(kind.record_type, record_id)] = outcome
            stored += len(chunk.records)
            report("store", stored, total)
    orphans = [(problem.ref, orphan_error(problem, layout)) for problem in parsed.orphans]
    return ImportResult(
        digest,
        parsed.template_version,
        parsed.current,
        outcomes,
        orphans,
        [c.context.batch_no for c in chunks],
        parsed.rows,
        replayed=bool(chunks) and all(c.reply is not None for c in chunks),
    )


def _chunks(
    parsed: ParsedWorkbook, layout: Layout, importer: Importer, digest: str, size: int
) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for type_number, record_type in enumerate(layout.record_types):
        records = parsed.records.get(record_type.record_type, [])
        for start in range(0, len(records), size):
            part = records[start : start + size]
            # batchNo: [A-Za-z0-9_-]{1,64}, unique per app; the template version keeps an old
            # import of the same bytes (parsed under another dictionary) from clashing with this one.
            batch_no = f"X{digest[:26]}-{layout.version}-{type_number:02d}{start // size:03d}"
            context = IntakeContext(
                importer.app_id, importer.org_code, record_type.service_code, batch_no
            )
            body = {
                "batchNo": batch_no,
                "records": [p.record for p in part],
                "readProblems": [
                    [(path, pr.code, pr.message) for path, pr in p.problems] for p in part
                ],
            }
            chunks.append(
                _Chunk(context, part, sm3_hex(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)))
            )
    return chunks


def _check(
    processor: RecordProcessor,
    context: IntakeContext,
    index: int,
    parsed: ParsedRecord,
    max_bytes: int,
) -> RecordCheck:
    """The gateway's per-record steps (protocol checks, then the processor), plus the cell problems of the workbook."""
    check = prepare_record(processor, context, index, parsed.record, max_bytes)
    if parsed.problems:
        # The cell's own problem explains it best; the validator's view of the same cell is noise.
        read = [
            Issue(
                f"records[{index}].{path}", "excel-cell", problem.message, native_code=problem.code
            )
            for path, problem in parsed.problems
        ]
        places = {issue.location for issue in read}
        check.issues = read + [issue for issue in check.issues if issue.location not in places]
        check.prepared = None
    return check


def _in_sheets(
    issue: Issue,
    parsed: ParsedRecord,
    layout: Layout,
    placed: Mapping[tuple[str, str], RecordOutcome],
) -> Issue:
    """A 3006 (the linked record was never received) told in sheets and rows, not services.

    The gateway says which service to send the case with; a person filling in the template
    needs the sheet to fill in instead, or the row of that sheet that failed.
    """
    if issue.native_code != "3006" or issue.rule != "linked-record":
        return issue
    name = issue.location.rsplit(".", 1)[-1]
    target = linked_record_type(parsed.record_type, name)
    if target is None:
        return issue
    sheet = layout.main_sheet(target).title
    value = parsed.record.get(name)
    there = placed.get((target, value)) if isinstance(value, str) else None
    if there is not None:
        message = (
            f"所属记录在“{sheet}”工作表第 {there.parsed.main.row} 行，该行未能导入："
            "请先更正该行，再重新上传"
        )
    else:
        message = (
            f"所属记录不存在：请在“{sheet}”工作表中填写它（可与本表在同一文件中上传），"
            "或核对本列的记录标识"
        )
    return replace(issue, message=message)


def _outcomes(chunk: _Chunk, reply: Mapping[str, Any], layout: Layout) -> list[RecordOutcome]:
    outcomes: list[RecordOutcome] = []
    for result in reply["results"]:
        parsed = chunk.records[result["index"]]
        locator = Locator(parsed, layout)
        errors = [
            locator.error(entry["field"], entry["code"], entry["msg"])
            for entry in result.get("errors", [])
        ]
        outcomes.append(
            RecordOutcome(
                parsed,
                chunk.context.batch_no,
                result["status"],
                result.get("receiptId", ""),
                errors,
            )
        )
    return outcomes
