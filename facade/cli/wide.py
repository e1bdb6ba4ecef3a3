"""Tables that never cut a value: wider than the terminal when they must be (identifiers stay whole)."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from facade.cli.output import console


def id_table(*identifiers: str, others: tuple[str, ...] = (), wrap: tuple[str, ...] = ()) -> Table:
    """A table whose identifier columns never wrap; ``wrap`` columns (long text) wrap at 60."""
    table = Table()
    for name in identifiers:
        table.add_column(name, no_wrap=True)
    for name in others:
        table.add_column(name)
    for name in wrap:
        table.add_column(name, max_width=60, overflow="fold")
    return table


def print_wide(table: Table) -> None:
    """Print at the table's natural width when the terminal (or a pipe's 80 columns) is narrower.

    Rich would otherwise squeeze columns and cut values with an ellipsis, and an operator would
    copy a truncated appId or batchNo into the next command.
    """
    needed = Measurement.get(console, console.options.update(width=100_000), table).maximum
    if needed <= console.width:
        console.print(table)
        return
    wide = Console(
        width=needed,
        file=console.file,
        no_color=console.no_color,
        force_terminal=console.is_terminal,
    )
    wide.print(table)
