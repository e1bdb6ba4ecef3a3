"""Tables as data: a page renders a Grid as HTML and the same Grid exports to Excel."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook

from facade.errors import InvalidInput, Issue
from facade.excel.neutralise import neutralise

_LONG = 48
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Cell:
    """A value shown in a table, optionally a link (the export keeps the value only)."""

    value: Any
    href: str | None = None
    numeric: bool = False
    wrap: bool = False  # long text: wraps in the page, whole in the export

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass
class Grid:
    """One table of a page: a name (for its export link), a title, column headings and rows."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str | None = None

    def add(self, *values: Any) -> None:
        """Append a row; plain values become cells (numbers right-aligned)."""
        self.rows.append(
            [
                v
                if isinstance(v, Cell)
                else Cell(
                    v,
                    numeric=isinstance(v, int | float),
                    wrap=isinstance(v, str) and len(v) > _LONG,
                )
                for v in values
            ]
        )


def to_xlsx(grid: Grid) -> bytes:
    """The grid as a one-sheet workbook (text neutralised against formula injection)."""
    book = Workbook(write_only=True)
    title = "".join("_" if ch in "[]:*?/\\" else ch for ch in grid.title)[:31]
    sheet = book.create_sheet(title=title or "data")
    sheet.append([neutralise(c) for c in grid.columns])
    for row in grid.rows:
        sheet.append([neutralise(cell.value) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pick(tables: dict[str, Grid], name: str) -> Grid:
    """The table an export asked for by name; InvalidInput listing the choices when unknown."""
    if name not in tables:
        raise InvalidInput(
            f"no table {name!r}", issues=[Issue("table", "choice", ", ".join(tables))]
        )
    return tables[name]
