"""``vte-facade period close|reopen|list``: lock and unlock reporting periods (VTE-X code 3008)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any

import typer
from rich.table import Table

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings
from facade.errors import FacadeError
from facade.mapping.values import parse_offset
from facade.periods import ClosedPeriodView, close_period, list_periods, reopen_period

app = typer.Typer(
    help="Close a reporting period after QC review (its records are locked) or reopen it.",
    no_args_is_help=True,
)
OrgOption = typer.Option(
    None, "--org", help="Only this institution's orgCode (default: the region)."
)
ByOption = typer.Option(None, "--by", help="Who does it, for the record (default: the OS user).")


def _show(data: dict[str, Any]) -> None:
    console.print(
        f"{data['label']} ({data['scope']}): {data['status']}  [{data['start']} – {data['end']})",
        highlight=False,
    )


def _change(
    action: Callable[..., ClosedPeriodView],
    period: str,
    org: str | None,
    by: str | None,
    as_json: bool,
    **extra: str,
) -> None:
    """Close or reopen in one transaction, then show the closure."""
    zone = parse_offset(settings().mapping_utc_offset)
    try:
        with open_database(as_json).session() as session:
            view = action(session, period, zone, by=by or getpass.getuser(), org_code=org, **extra)
    except FacadeError as exc:
        raise fail(exc, as_json) from exc
    emit(view.as_dict(), as_json, _show)


@app.command()
def close(
    period: str = typer.Argument(..., help="2026-Q1, 2026-03, 2026-H1 or 2026."),
    reason: str = typer.Option("", help="Why, e.g. '2026 年第一季度质控审核完成'."),
    org: str | None = OrgOption,
    by: str | None = ByOption,
    json: JsonOption = False,
) -> None:
    """Close a period: new record versions in it are refused with 3008 until it is reopened."""
    _change(close_period, period, org, by, json, reason=reason)


@app.command()
def reopen(
    period: str = typer.Argument(..., help="The label it was closed under."),
    org: str | None = OrgOption,
    by: str | None = ByOption,
    json: JsonOption = False,
) -> None:
    """Reopen a closed period (the closure stays in the list as history)."""
    _change(reopen_period, period, org, by, json)


@app.command("list")
def list_(
    history: bool = typer.Option(False, "--history", help="Include reopened periods."),
    json: JsonOption = False,
) -> None:
    """Closed periods (newest first)."""
    with open_database(json).session() as session:
        rows = [view.as_dict() for view in list_periods(session, include_reopened=history)]

    def human(data: list[dict[str, Any]]) -> None:
        table = Table("period", "scope", "status", "closed by", "closed at", "reason")
        for row in data:
            table.add_row(
                row["label"],
                row["scope"],
                row["status"],
                row["closed_by"],
                row["closed_at"],
                row["reason"],
            )
        console.print(table)

    emit(rows, json, human)
