"""The sheet layout of the import template, derived from the dictionary; template, reader and error workbook share it.

One data sheet per record type holds its top-level fields, one row per record. Each repeating
group (diagnoses, operations, risk items, ...) gets a sheet of its own whose first column is the
``recordId`` of the record the row belongs to; rows of a group sheet become the group's items in
row order. Row 1 holds the visible headers ("*入院日期时间 admissionDateTime", ``*`` = required),
row 2 the field names (hidden; the reader parses by it), data starts on row 3.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

import orjson

from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field, Group, RecordType

HEADER_ROW = 1
NAME_ROW = 2
FIRST_DATA_ROW = 3
LINK = "recordId"  # the column of a group sheet naming its record

INSTRUCTIONS_SHEET = "填写说明"
DICTIONARY_SHEET = "数据字典"
CODES_SHEET = "代码表"
META_SHEET = "_vte_template"  # very hidden: template version and the sheet map, for the reader
SUPPORT_SHEETS = (INSTRUCTIONS_SHEET, DICTIONARY_SHEET, CODES_SHEET, META_SHEET)

_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
_SHEET_TITLE_MAX = 31  # Excel's limit


def column_letter(index: int) -> str:
    """Excel column letters of a 1-based column index (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def code_table_name(table_id: str) -> str:
    """The workbook-level defined name of a code table's drop-down list."""
    return "CT_" + table_id.replace("-", "_")


@dataclass(frozen=True)
class Column:
    """One column of a data sheet: its letter, field name (row 2), header (row 1) and dictionary field."""

    letter: str
    name: str
    header: str
    field: Field
    link: bool = False  # the recordId column of a group sheet


@dataclass(frozen=True)
class SheetLayout:
    """A data sheet: the record type (and group) it holds and its columns."""

    title: str
    record_type: RecordType
    group: Group | None
    columns: tuple[Column, ...]

    @cached_property
    def by_name(self) -> dict[str, Column]:
        """Columns by field name."""
        return {c.name: c for c in self.columns}

    @property
    def names(self) -> list[str]:
        """Field names in column order (what row 2 must hold)."""
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Layout:
    """Every data sheet of the template, in order, and the template version."""

    sheets: tuple[SheetLayout, ...]
    versions: tuple[tuple[str, int], ...]  # ("record:case", 1), ("table:gbt-2261-1-sex", 1), ...
    version: str
    max_rows: int

    @cached_property
    def by_title(self) -> dict[str, SheetLayout]:
        """Data sheets by title."""
        return {s.title: s for s in self.sheets}

    def main_sheet(self, record_type: str) -> SheetLayout:
        """The sheet of a record type's top-level fields."""
        return next(
            s for s in self.sheets if s.record_type.record_type == record_type and s.group is None
        )

    def group_sheets(self, record_type: str) -> list[SheetLayout]:
        """The sheets of a record type's repeating groups, in dictionary order."""
        return [
            s
            for s in self.sheets
            if s.record_type.record_type == record_type and s.group is not None
        ]

    @property
    def record_types(self) -> list[RecordType]:
        """Record types in sheet order."""
        return [s.record_type for s in self.sheets if s.group is None]


def header_text(field: Field, required: bool | None = None) -> str:
    """Row-1 header: ``*`` for a required field, the Chinese name, then the field name."""
    star = "*" if (field.required if required is None else required) else ""
    return f"{star}{field.zh} {field.name}"


def build_layout(dictionary: Dictionary, max_rows: int) -> Layout:
    """The template layout of ``dictionary``; data validations cover ``max_rows`` rows per sheet."""
    sheets: list[SheetLayout] = []
    titles: set[str] = set(SUPPORT_SHEETS)
    for record in _ordered(dictionary):
        columns = [
            Column(column_letter(i), f.name, header_text(f), f)
            for i, f in enumerate(record.fields, start=1)
        ]
        sheets.append(SheetLayout(_title(record.zh, titles), record, None, tuple(columns)))
        link_field = record.field(LINK)
        if link_field is None:  # every record type carries the common recordId
            raise ValueError(f"record type {record.record_type} has no {LINK} field")
        for group in record.groups:
            if any(f.name == LINK for f in group.fields):
                raise ValueError(
                    f"group {group.name} of {record.record_type} has a field named {LINK}"
                )
            group_columns = [
                Column("A", LINK, header_text(link_field, True), link_field, link=True)
            ]
            group_columns += [
                Column(column_letter(i), f.name, header_text(f), f)
                for i, f in enumerate(group.fields, start=2)
            ]
            title = _title(f"{record.zh}-{group.zh}", titles)
            sheets.append(SheetLayout(title, record, group, tuple(group_columns)))
    versions = sorted(
        [(f"record:{r.record_type}", r.version) for r in dictionary.record_types.values()]
        + [(f"table:{t.id}", t.version) for t in dictionary.code_tables.values()]
    )
    return Layout(
        tuple(sheets), tuple(versions), _fingerprint(sheets, versions, dictionary), max_rows
    )


def _ordered(dictionary: Dictionary) -> list[RecordType]:
    """Record types referenced by others first (organisation, case, ...), then in the
    dictionary's clinical order (risk, bleeding, prophylaxis, event), then by name."""
    position = {name: n for n, name in enumerate(dictionary.clinical_order)}
    depends: dict[str, set[str]] = {}
    for name, record in dictionary.record_types.items():
        depends[name] = {
            ref.record_type
            for spec in record.resources
            for ref in spec.references
            if ref.record_type
            and ref.record_type != name
            and ref.record_type in dictionary.record_types
        }
    ordered: list[str] = []
    while len(ordered) < len(depends):
        ready = [n for n, d in depends.items() if n not in ordered and d <= set(ordered)]
        if not ready:  # a cycle: fall back to clinical order for the rest
            ready = [n for n in depends if n not in ordered]
        ordered.append(min(ready, key=lambda n: (position.get(n, len(position)), n)))
    return [dictionary.record_types[n] for n in ordered]


def _title(wanted: str, taken: set[str]) -> str:
    title = _SHEET_TITLE_FORBIDDEN.sub("_", wanted)[:_SHEET_TITLE_MAX]
    base, number = title, 2
    while title in taken:
        suffix = f"~{number}"
        title = base[: _SHEET_TITLE_MAX - len(suffix)] + suffix
        number += 1
    taken.add(title)
    return title


def _fingerprint(
    sheets: list[SheetLayout], versions: list[tuple[str, int]], dictionary: Dictionary
) -> str:
    """A short digest of the sheet layout, the dictionary versions and the codes offered in drop-downs."""
    document = {
        "sheets": [[s.title, s.names] for s in sheets],
        "versions": versions,
        "codes": {t.id: t.codes for t in dictionary.code_tables.values()},
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:10]
