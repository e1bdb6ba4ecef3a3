"""Map a record error (``records[3].diagnoses[1].icd10Code``) back to the sheet, row and column it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from facade.excel.layout import Layout, SheetLayout
from facade.native.codes import MESSAGES, Code

if TYPE_CHECKING:
    from facade.excel.reader import ParsedRecord, RowProblem

_PATH = re.compile(
    r"records\[\d+\]"
    r"(?:\.(?P<first>[A-Za-z][A-Za-z0-9]*)(?:\[(?P<item>\d+)\])?(?:\.(?P<second>[A-Za-z][A-Za-z0-9]*))?)?"
)


@dataclass(frozen=True)
class CellError:
    """One problem at one place of the workbook; ``column`` is "" when it concerns a whole row."""

    sheet: str
    row: int
    column: str
    field: str
    label: str  # the field's Chinese name
    code: str
    message: str
    sheet_index: int = 0

    @property
    def code_text(self) -> str:
        """The standard meaning of the code (必填字段缺失, 取值不在值域/字典内, ...)."""
        try:
            return MESSAGES[Code(self.code)]
        except ValueError:
            return ""

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        """Sheet order, row, then column (A < B < ... < AA), whole-row problems first."""
        return (self.sheet_index, self.row, len(self.column), self.column)

    def as_dict(self) -> dict[str, Any]:
        """JSON form: where, which field, which code and what to do (never the cell's value)."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "fieldName": self.label,
            "code": self.code,
            "message": self.message,
        }

    def text(self) -> str:
        """``第{行}行 第{列}列（{字段名}）：{问题}`` as hospital staff are used to reading it."""
        where = f"第{self.row}行" + (f" 第{self.column}列（{self.label}）" if self.column else "")
        return f"{where}：[{self.code}] {self.message}"


class Locator:
    """Finds the cell of an error of one record."""

    def __init__(self, parsed: ParsedRecord, layout: Layout) -> None:
        self.parsed = parsed
        self.layout = layout
        self.order = {s.title: i for i, s in enumerate(layout.sheets)}

    def error(self, location: str, code: str, message: str) -> CellError:
        """The CellError of an issue reported at ``location`` (a ``records[i]...`` path)."""
        main = self.parsed.main
        match = _PATH.fullmatch(location)
        if match is None:
            return self._at(main.sheet, main.row, None, location, code, message)
        first, item, second = match.group("first"), match.group("item"), match.group("second")
        if first is None:
            return self._at(main.sheet, main.row, None, "", code, message)
        rows = self.parsed.items.get(first)
        if rows is not None or any(g.name == first for g in self.parsed.record_type.groups):
            index = int(item) if item is not None else None
            if rows and index is not None and index < len(rows):
                ref = rows[index]
                return self._at(ref.sheet, ref.row, second, second or "", code, message)
            if rows:  # the group as a whole (too many items): its first row
                return self._at(rows[0].sheet, rows[0].row, None, first, code, message)
            return self._at(main.sheet, main.row, None, first, code, message)
        return self._at(main.sheet, main.row, first, first, code, message)

    def _at(
        self, sheet: SheetLayout, row: int, name: str | None, field: str, code: str, message: str
    ) -> CellError:
        column = sheet.by_name.get(name) if name else None
        return CellError(
            sheet=sheet.title,
            row=row,
            column=column.letter if column else "",
            field=field,
            label=column.field.zh if column else "",
            code=code,
            message=message,
            sheet_index=self.order.get(sheet.title, 0),
        )


def orphan_error(problem: RowProblem, layout: Layout) -> CellError:
    """The CellError of a group row that belongs to no record."""
    return CellError(
        sheet=problem.ref.sheet.title,
        row=problem.ref.row,
        column=problem.column.letter,
        field=problem.column.name,
        label=problem.column.field.zh,
        code=problem.problem.code,
        message=problem.problem.message,
        sheet_index=[s.title for s in layout.sheets].index(problem.ref.sheet.title),
    )
