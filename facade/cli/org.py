"""``vte-facade org add|list|disable|enable``: the institutions admitted to report."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from facade.cli.native import open_database
from facade.cli.output import JsonOption, console, emit, err_console, fail, settings
from facade.errors import FacadeError, UpstreamError
from facade.native import orgs
from facade.security.institutions import InstitutionRegistry
from facade.upstream import UpstreamClient

app = typer.Typer(help="Register and manage reporting institutions.", no_args_is_help=True)


def _upstream() -> UpstreamClient:
    return UpstreamClient(settings())


@app.command()
def add(
    org_code: str = typer.Argument(
        ..., help="18-character unified social credit code (统一社会信用代码)."
    ),
    name: str = typer.Option(..., help="Institution name."),
    grade: str = typer.Option(
        ..., help="Hospital grade code: 31/32/33/39 (三级甲/乙/丙/未定等) or 21/22/23/29 (二级)."
    ),
    vte_system: bool = typer.Option(
        False,
        "--vte-system",
        help="Confirm the hospital's VTE system offers VTE-risk, bleeding-risk, mechanical-contraindication "
        "and Wells assessments and indicator statistics.",
    ),
    json: JsonOption = False,
) -> None:
    """Admit an institution: its FHIR Organization is created first, then the registry row."""
    database = open_database(json)

    async def admit() -> orgs.OrgSummary:
        upstream = _upstream()
        try:
            return await InstitutionRegistry(database).admit(
                upstream, org_code, name, grade=grade, has_vte_system=vte_system
            )
        finally:
            await upstream.aclose()

    try:
        summary = asyncio.run(admit())
    except UpstreamError as exc:
        raise fail(
            f"FHIR server did not accept the Organization ({exc.message}); nothing was registered",
            json,
        ) from exc
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(
        summary.as_dict(),
        json,
        lambda d: console.print(
            f"registered {d['orgCode']} {d['name']} (Organization/{d['fhirId']})"
        ),
    )


@app.command("list")
def list_(json: JsonOption = False) -> None:
    """List registered institutions."""
    with open_database(json).session() as session:
        rows = [org.as_dict() for org in orgs.list_orgs(session)]

    def human(data: list[dict[str, str]]) -> None:
        table = Table("orgCode", "name", "grade", "status", "FHIR id")
        for row in data:
            table.add_row(
                row["orgCode"],
                row["name"],
                row["hospitalGrade"],
                row["status"],
                row["fhirId"] or "",
            )
        console.print(table)

    emit(rows, json, human)


def _set_status(org_code: str, active: bool, json: bool) -> None:
    database = open_database(json)

    async def change() -> tuple[orgs.OrgSummary, str | None]:
        upstream = _upstream()
        try:
            return await InstitutionRegistry(database).change_status(
                upstream, org_code, active=active
            )
        finally:
            await upstream.aclose()

    try:
        summary, problem = asyncio.run(change())
    except FacadeError as exc:
        raise fail(exc, json) from exc
    fhir_note = "updated" if problem is None else f"not updated: {problem}"
    if problem is not None:
        err_console.print(
            f"[yellow]warning:[/] FHIR Organization {fhir_note}; run the command again later"
        )
    emit(
        {"orgCode": org_code, "status": summary.status, "fhirOrganization": fhir_note},
        json,
        lambda d: console.print(f"{d['orgCode']} is {d['status']}"),
    )


@app.command()
def disable(org_code: str = typer.Argument(...), json: JsonOption = False) -> None:
    """Disable an institution: its apps (1003) and FHIR clients (tokens, requests) are refused.

    A running facade notices within VTE_INSTITUTION_CACHE_SECONDS (default 5 s), whether or not
    HAPI is up.
    """
    _set_status(org_code, False, json)


@app.command()
def enable(org_code: str = typer.Argument(...), json: JsonOption = False) -> None:
    """Re-enable a disabled institution (running facades notice within the same few seconds)."""
    _set_status(org_code, True, json)
