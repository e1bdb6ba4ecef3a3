"""Write the error workbook of an import: a summary, every error by sheet/row/column/code, and the rejected rows.

Rejected rows are echoed so staff can find them, with offending cells highlighted; identity
numbers and other never-forwarded personal text are masked, and every text cell passes through
the formula-injection guard (an uploaded ``=HYPERLINK(...)`` comes back as inert text).
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from facade.dictionary.models import Field
from facade.excel.importer import ImportResult
from facade.excel.layout import Layout, SheetLayout
from facade.excel.locate import CellError
from facade.excel.neutralise import neutralise
from facade.excel.reader import RowRef

SUMMARY_SHEET = "导入结果"
ERRORS_SHEET = "错误清单"
ERROR_COLUMNS = ("工作表", "行号", "列", "字段", "字段名称", "错误代码", "代码含义", "说明")
MASK = "（已隐去）"
_BAD = PatternFill("solid", fgColor="FFC7CE")
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def masked(field: Field) -> bool:
    """Whether an echoed value of this field is hidden: identity numbers and never-forwarded text (names)."""
    return field.type == "identity-number" or (not field.forwarded and field.type == "string")


def safe_cell(value: Any) -> Any:
    """A value ready to write: formula triggers neutralised, characters XML cannot hold removed."""
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, int | float | bool | datetime) or value is None:
        return value
    return neutralise(str(value))


def build_error_workbook(
    result: ImportResult, layout: Layout, *, import_id: str, created: datetime
) -> bytes:
    """The error workbook of ``result`` as .xlsx bytes."""
    workbook = Workbook()
    summary = workbook.create_sheet(SUMMARY_SHEET)
    for sheet in workbook.worksheets[:-1]:  # the blank sheet every new workbook starts with
        workbook.remove(sheet)
    errors = result.errors
    _summary(summary, result, layout, import_id, created)
    _error_list(workbook.create_sheet(ERRORS_SHEET), errors)
    rows = _rejected_rows(result)
    by_cell: dict[tuple[str, int], list[CellError]] = defaultdict(list)
    for error in errors:
        by_cell[(error.sheet, error.row)].append(error)
    for sheet in layout.sheets:
        if rows.get(sheet.title):
            _rows_sheet(workbook.create_sheet(sheet.title), sheet, rows[sheet.title], by_cell)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _summary(
    ws: Worksheet, result: ImportResult, layout: Layout, import_id: str, created: datetime
) -> None:
    counts = result.counts()
    version = result.template_version + (
        "" if result.template_current else f"（当前版本 {layout.version}）"
    )
    facts = [
        ("导入编号", import_id),
        ("导入时间", created.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("文件 SM3", result.file_digest),
        ("模板版本", version),
        ("结果", result.status),
        ("记录数", counts["total"]),
        ("已接收", counts["successCount"]),
        ("已存在（重复上报，未变化）", counts["duplicateCount"]),
        ("未接收", counts["failCount"]),
        ("无所属记录的明细行", counts["orphanRows"]),
        ("说明", "未接收的记录不会入库；改正后可重新导入整个文件，已接收的记录不会重复。"),
    ]
    for row, (key, value) in enumerate(facts, start=1):
        ws.cell(row, 1, key).font = _BOLD
        ws.cell(row, 2, safe_cell(value))
    row = len(facts) + 2
    for col, title in enumerate(("工作表", "记录数", "已接收", "已存在", "未接收"), start=1):
        ws.cell(row, col, title).font = _BOLD
    per_sheet: dict[str, list[str]] = defaultdict(list)
    for outcome in result.outcomes:
        per_sheet[outcome.parsed.main.sheet.title].append(outcome.status)
    for sheet in layout.sheets:
        statuses = per_sheet.get(sheet.title)
        if statuses:
            row += 1
            values = (
                sheet.title,
                len(statuses),
                statuses.count("SUCCESS"),
                statuses.count("DUPLICATE"),
                statuses.count("FAILED"),
            )
            for col, value in enumerate(values, start=1):
                ws.cell(row, col, safe_cell(value))
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70


def _error_list(ws: Worksheet, errors: list[CellError]) -> None:
    for col, title in enumerate(ERROR_COLUMNS, start=1):
        cell = ws.cell(1, col, title)
        cell.font = _BOLD
        cell.fill = _HEAD
    for row, error in enumerate(errors, start=2):
        values = (
            error.sheet,
            error.row,
            error.column,
            error.field,
            error.label,
            error.code,
            error.code_text,
            error.message,
        )
        for col, value in enumerate(values, start=1):
            ws.cell(row, col, safe_cell(value))
    for letter, width in zip("ABCDEFGH", (24, 8, 6, 22, 18, 10, 24, 70), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:H{max(1, len(errors) + 1)}"


def _rejected_rows(result: ImportResult) -> dict[str, list[RowRef]]:
    """Rows to echo by sheet: every row of a rejected record, and group rows without a record."""
    rows: dict[str, dict[int, RowRef]] = defaultdict(dict)
    for outcome in result.outcomes:
        if outcome.status != "FAILED":
            continue
        refs = [outcome.parsed.main] + [r for group in outcome.parsed.items.values() for r in group]
        for ref in refs:
            rows[ref.sheet.title][ref.row] = ref
    for ref, _error in result.orphans:
        rows[ref.sheet.title][ref.row] = ref
    return {title: [refs[n] for n in sorted(refs)] for title, refs in rows.items()}


def _rows_sheet(
    ws: Worksheet,
    sheet: SheetLayout,
    refs: list[RowRef],
    by_cell: dict[tuple[str, int], list[CellError]],
) -> None:
    headers = ["原行号", "错误信息", *(c.header for c in sheet.columns)]
    for col, title in enumerate(headers, start=1):
        cell = ws.cell(1, col, title)
        cell.font = _BOLD
        cell.fill = _HEAD
        cell.alignment = _WRAP
    for out_row, ref in enumerate(refs, start=2):
        errors = by_cell.get((sheet.title, ref.row), [])
        ws.cell(out_row, 1, ref.row)
        note = ws.cell(out_row, 2, safe_cell("\n".join(e.text() for e in errors)))
        note.alignment = _WRAP
        bad = {e.column for e in errors if e.column}
        for col, column in enumerate(sheet.columns, start=3):
            value = ref.raw.get(column.name)
            if value is not None and masked(column.field):
                value = MASK
            cell = ws.cell(out_row, col, safe_cell(value))
            if column.letter in bad:
                cell.fill = _BAD
    ws.column_dimensions["B"].width = 60
    ws.freeze_panes = "C2"
