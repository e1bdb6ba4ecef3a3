"""Parse an uploaded workbook into native records, streaming with openpyxl's read-only mode.

Formulas are read as their text and never evaluated (``data_only=False``); a formula cell is a
problem of that cell, not a value. File-level faults (not our template, altered header row,
unknown sheet, size caps) refuse the whole file before anything is stored.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook

from facade.dictionary.loader import Dictionary
from facade.dictionary.models import RecordType
from facade.excel.container import Limits, check_container, reject, too_large
from facade.excel.convert import ABSENT, CellProblem, convert_cell
from facade.excel.layout import (
    FIRST_DATA_ROW,
    LINK,
    META_SHEET,
    NAME_ROW,
    SUPPORT_SHEETS,
    Column,
    Layout,
    SheetLayout,
)

Progress = Callable[[int], None]  # called with the number of data rows read so far


@dataclass
class RowRef:
    """One data row as uploaded: where it is and its raw cell values (kept for the error workbook)."""

    sheet: SheetLayout
    row: int
    raw: dict[str, Any]


@dataclass
class ParsedRecord:
    """A record built from a main-sheet row and the group rows that name its recordId."""

    record_type: RecordType
    record: dict[str, Any]
    main: RowRef
    items: dict[str, list[RowRef]] = field(default_factory=dict)
    # Problems found while reading, by path inside the record ("idNumber", "diagnoses[1].icd10Code").
    problems: list[tuple[str, CellProblem]] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    """A problem of a row that belongs to no record (a group row without a valid recordId)."""

    ref: RowRef
    column: Column
    problem: CellProblem


@dataclass
class ParsedWorkbook:
    """Everything read from an upload."""

    template_version: str
    current: (
        bool  # made from the template version served now (an older one passed the header check)
    )
    records: dict[str, list[ParsedRecord]]  # by record type, in sheet order
    orphans: list[RowProblem]
    rows: int


def read_workbook(
    data: bytes,
    layout: Layout,
    dictionary: Dictionary,
    limits: Limits,
    *,
    filename: str | None = None,
    progress: Progress | None = None,
) -> ParsedWorkbook:
    """Check the file, then read every data sheet into records (InvalidInput / PayloadTooLarge on file faults)."""
    check_container(data, limits, filename)
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (e.g. unsupported extensions); they carry no data.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=False
            )
        except Exception as exc:  # openpyxl raises a zoo of types for broken parts
            raise reject("工作簿无法读取（文件已损坏或不是 Excel 工作簿）", "unreadable") from exc
    try:
        return _Reader(workbook, layout, dictionary, limits, progress).run()
    finally:
        workbook.close()


class _Reader:
    def __init__(
        self,
        workbook: Any,
        layout: Layout,
        dictionary: Dictionary,
        limits: Limits,
        progress: Progress | None,
    ) -> None:
        self.workbook = workbook
        self.layout = layout
        self.dictionary = dictionary
        self.limits = limits
        self.progress = progress
        self.rows = 0
        self.cells = 0

    def run(self) -> ParsedWorkbook:
        version = self._template_version()
        for title in self.workbook.sheetnames:
            if (
                title not in SUPPORT_SHEETS
                and title not in self.layout.by_title
                and self._has_data(title)
            ):
                raise reject(
                    f"工作表“{title}”不属于导入模板：请勿新增或重命名工作表（不用的工作表请删除）",
                    "unknown-sheet",
                )
        main_rows: dict[
            str, list[tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]]
        ] = {}
        group_rows: dict[
            str, list[tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]]
        ] = {}
        for sheet in self.layout.sheets:
            if sheet.title not in self.workbook.sheetnames:
                continue  # a sheet the hospital does not use may be deleted
            rows = list(self._sheet_rows(sheet, version))
            (main_rows if sheet.group is None else group_rows)[sheet.title] = rows
        parsed = ParsedWorkbook(version, version == self.layout.version, {}, [], self.rows)
        for record_type in self.layout.record_types:
            main = self.layout.main_sheet(record_type.record_type)
            records = self._records(record_type, main_rows.get(main.title, []))
            for sheet in self.layout.group_sheets(record_type.record_type):
                self._attach(sheet, records, group_rows.get(sheet.title, []), parsed.orphans)
            if records:
                parsed.records[record_type.record_type] = records
        return parsed

    def _template_version(self) -> str:
        if META_SHEET not in self.workbook.sheetnames:
            raise reject(
                "不是本平台的 VTE 导入模板（缺少模板信息）：请先下载最新模板再填写", "not-template"
            )
        for row in self.workbook[META_SHEET].iter_rows(
            min_row=1, max_row=1, max_col=2, values_only=True
        ):
            if row and row[0] == "templateVersion" and isinstance(row[1], str):
                return row[1]
        raise reject("模板信息已损坏：请先下载最新模板再填写", "not-template")

    def _has_data(self, title: str) -> bool:
        for row in self.workbook[title].iter_rows(values_only=True):
            if any(v is not None and v != "" for v in row):
                return True
        return False

    def _sheet_rows(
        self, sheet: SheetLayout, version: str
    ) -> Iterator[tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]]:
        """Data rows of a sheet as (ref, converted values, problems); empty rows are skipped."""
        ws = self.workbook[sheet.title]
        width = len(sheet.columns)
        data_rows = 0
        for number, cells in enumerate(
            ws.iter_rows(min_row=NAME_ROW, max_col=width + 1), start=NAME_ROW
        ):
            if number == NAME_ROW:
                self._check_names(sheet, [c.value for c in cells], version)
                continue
            if number < FIRST_DATA_ROW:
                continue
            used = [c for c in cells[:width] if c.value is not None and c.value != ""]
            if not used:
                continue
            data_rows += 1
            self.rows += 1
            self.cells += len(used)
            if data_rows > self.limits.max_rows_per_sheet:
                raise too_large(
                    f"工作表“{sheet.title}”超过 {self.limits.max_rows_per_sheet} 行数据：请分成多个文件导入",
                    "rows-per-sheet",
                )
            if self.cells > self.limits.max_cells:
                raise too_large(
                    f"工作簿超过 {self.limits.max_cells} 个非空单元格：请分成多个文件导入", "cells"
                )
            if self.progress is not None:
                self.progress(self.rows)
            yield self._convert(sheet, number, cells[:width])

    def _check_names(self, sheet: SheetLayout, found: list[Any], version: str) -> None:
        expected = sheet.names
        given = [str(v).strip() if v is not None else "" for v in found]
        while given and not given[-1]:
            given.pop()
        if given == expected:
            return
        stale = (
            f"（文件的模板版本 {version} 已过期，当前版本为 {self.layout.version}）"
            if version != self.layout.version
            else ""
        )
        for index, column in enumerate(sheet.columns):
            if index >= len(given) or given[index] != column.name:
                raise reject(
                    f"工作表“{sheet.title}”第 {NAME_ROW} 行（隐藏的字段名行）{column.letter} 列应为 {column.name}："
                    f"请使用最新模板，勿增删、移动列{stale}",
                    "header-mismatch",
                )
        raise reject(
            f"工作表“{sheet.title}”第 {NAME_ROW} 行（隐藏的字段名行）在最后一列之后还有列：请使用最新模板，勿增加列{stale}",
            "header-mismatch",
        )

    def _convert(
        self, sheet: SheetLayout, number: int, cells: Any
    ) -> tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]:
        raw: dict[str, Any] = {}
        values: dict[str, Any] = {}
        problems: list[tuple[str, CellProblem]] = []
        for column, cell in zip(sheet.columns, cells, strict=False):
            if cell.value is None:
                continue
            raw[column.name] = cell.value
            table_id = None if column.link else column.field.code_table
            table = self.dictionary.code_tables.get(table_id) if table_id else None
            converted = convert_cell(
                column.field,
                cell.value,
                cell.data_type,
                getattr(cell, "number_format", "General"),
                table,
            )
            if converted.value is not ABSENT:
                values[column.name] = converted.value
            if converted.problem is not None:
                problems.append((column.name, converted.problem))
        return RowRef(sheet, number, raw), values, problems

    def _records(
        self,
        record_type: RecordType,
        rows: list[tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]],
    ) -> list[ParsedRecord]:
        records = [
            ParsedRecord(record_type, values, ref, problems=list(problems))
            for ref, values, problems in rows
        ]
        seen: dict[str, list[ParsedRecord]] = {}
        for record in records:
            record_id = record.record.get(LINK)
            if isinstance(record_id, str):
                seen.setdefault(record_id, []).append(record)
        for same in seen.values():
            if len(same) > 1:
                # Group rows find their record by recordId, so a repeated id makes every link ambiguous.
                rows_text = "、".join(str(r.main.row) for r in same)
                for record in same:
                    record.problems.append(
                        (
                            LINK,
                            CellProblem(
                                "3005",
                                f"recordId 在本工作表第 {rows_text} 行重复：每条记录一行，更正请递增 recordVersion",
                            ),
                        )
                    )
        return records

    def _attach(
        self,
        sheet: SheetLayout,
        records: list[ParsedRecord],
        rows: list[tuple[RowRef, dict[str, Any], list[tuple[str, CellProblem]]]],
        orphans: list[RowProblem],
    ) -> None:
        if sheet.group is None:
            return
        group = sheet.group.name
        link = sheet.by_name[LINK]
        by_id: dict[str, ParsedRecord] = {}
        for record in records:
            record_id = record.record.get(LINK)
            if isinstance(record_id, str):
                by_id.setdefault(record_id, record)
        for ref, values, problems in rows:
            record_id = values.pop(LINK, None)
            link_problem = next((p for name, p in problems if name == LINK), None)
            if record_id is None or link_problem is not None:
                problem = link_problem or CellProblem("3001", "须填写所属记录的 recordId")
                orphans.append(RowProblem(ref, link, problem))
                continue
            owner = by_id.get(record_id) if isinstance(record_id, str) else None
            if owner is None:
                main = self.layout.main_sheet(sheet.record_type.record_type).title
                orphans.append(
                    RowProblem(
                        ref, link, CellProblem("3006", f"工作表“{main}”中没有该 recordId 的记录")
                    )
                )
                continue
            items = owner.record.setdefault(group, [])
            position = len(items)
            items.append(values)
            owner.items.setdefault(group, []).append(ref)
            owner.problems.extend(
                (f"{group}[{position}].{name}", problem)
                for name, problem in problems
                if name != LINK
            )
