"""Turn one Excel cell into the value a native (VTE-X) record carries for its field.

This is conversion, not validation: a value is only reshaped where Excel is known to have
reshaped it (a date cell, a code typed as a number, "是/否", "01 居民身份证" from a drop-down).
Everything else passes through unchanged so the dictionary validator judges it with the same
rules and codes as the API. The few problems only a spreadsheet can have (a formula, an error
value, an identity number Excel already rounded) are reported here, with the 3002 code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from facade.dictionary.codetables import CodeTable
from facade.dictionary.models import Field

ABSENT: Any = object()  # an empty cell: the field is left out of the record
FORMAT_CODE = "3002"
EXCEL_DIGITS = 15  # Excel stores numbers as doubles and shows 15 significant digits

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_TRUE = frozenset({"是", "true", "y", "yes", "1", "√"})
_FALSE = frozenset({"否", "false", "n", "no", "0", "×"})


@dataclass(frozen=True)
class CellProblem:
    """Why a cell could not be turned into a value; the message never quotes the cell."""

    code: str
    message: str


@dataclass(frozen=True)
class Converted:
    """A cell's native value (or ABSENT) and the problem found, if any."""

    value: Any
    problem: CellProblem | None = None


def convert_cell(
    field: Field, value: Any, data_type: str, number_format: str, table: CodeTable | None
) -> Converted:
    """The native value of a cell of ``field`` (``data_type`` and ``number_format`` as openpyxl reports them)."""
    if value is None:
        return Converted(ABSENT)
    if data_type == "f":
        return Converted(
            str(value), CellProblem(FORMAT_CODE, "单元格是公式：请用“选择性粘贴 → 数值”替换为值")
        )
    if data_type == "e":
        return Converted(str(value), CellProblem(FORMAT_CODE, "单元格是错误值（如 #N/A、#VALUE!）"))
    if isinstance(value, str):
        return _text(field, value, table)
    if isinstance(value, bool):
        return Converted(value if field.type == "boolean" else str(value).lower())
    if isinstance(value, int | float):
        return _number(field, value, table)
    if isinstance(value, datetime | date | time):
        return Converted(_moment(field, value, number_format))
    return Converted(str(value))


def _text(field: Field, value: str, table: CodeTable | None) -> Converted:
    text = value.strip()
    if not text:
        return Converted(ABSENT)
    if table is not None:
        return Converted(_code(text, table))
    if field.type == "boolean":
        lowered = text.lower()
        if lowered in _TRUE:
            return Converted(True)
        if lowered in _FALSE:
            return Converted(False)
        return Converted(text)
    if field.type in ("integer", "decimal") and _NUMBER.fullmatch(text):
        number = float(text)
        if field.type == "integer" and number.is_integer() and "." not in text:
            return Converted(int(text))
        return Converted(int(number) if field.type == "decimal" and "." not in text else number)
    return Converted(text)


def _code(text: str, table: CodeTable) -> str:
    """``"01 居民身份证"`` (a drop-down entry) or the bare name ``"居民身份证"`` → ``"01"``, when unambiguous."""
    code, _, label = text.partition(" ")
    concept = table.concept(code)
    if concept is not None and (not label or label.strip() == concept.zh):
        return code
    by_name = [c.code for c in table.concepts if c.zh == text]
    return by_name[0] if len(by_name) == 1 else text


def _number(field: Field, value: float, table: CodeTable | None) -> Converted:
    integral = isinstance(value, int) or float(value).is_integer()
    if field.type in ("integer", "decimal"):
        return Converted(int(value) if integral else value)
    if field.type == "boolean" and integral and int(value) in (0, 1):
        return Converted(bool(int(value)))
    if not integral:
        return Converted(repr(float(value)))
    number = int(value)
    if abs(number) >= 10**EXCEL_DIGITS:
        return Converted(
            str(number),
            CellProblem(
                FORMAT_CODE, "该列须以文本录入：Excel 把长数字只保留 15 位有效数字，末几位已丢失"
            ),
        )
    text = str(number)
    if table is not None and table.concept(text) is None:
        # Excel turned "01" into 1: restore the leading zeros when exactly one code fits.
        padded = [c.code for c in table.concepts if c.code.lstrip("0") == text and c.code != text]
        if len(padded) == 1:
            return Converted(padded[0])
    return Converted(text)


def _moment(field: Field, value: datetime | date | time, number_format: str) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    if field.type == "date":
        return moment.strftime("%Y-%m-%d")
    # A cell formatted as a date only carries no time of day; inventing midnight would move
    # time-based indicators (assessment within 24 h), so the validator sees a date and objects.
    if field.type == "datetime" and not _shows_time(number_format):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _shows_time(number_format: str) -> bool:
    spec = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format.lower())
    return "h" in spec or "s" in spec
