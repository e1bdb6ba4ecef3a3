"""``vte-facade org add|list|disable|enable``: the institutions admitted to report."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import typer

from facade.cli.output import (
    JsonOption,
    console,
    emit,
    err_console,
    fail,
    open_database,
    print_table,
    settings,
    table,
)

if TYPE_CHECKING:
    from facade.errors import FacadeError
    from facade.native import orgs
    from facade.upstream import UpstreamClient

app = typer.Typer(help="Register and manage reporting institutions.", no_args_is_help=True)

# The fields the registry checks, as the operator typed them on the command line.
FLAGS = {"orgCode": "ORG_CODE", "hospitalGrade": "--grade", "vteSystem": "--vte-system"}


def _upstream() -> UpstreamClient:
    from facade.upstream import UpstreamClient

    return UpstreamClient(settings())


def _as_flags(error: FacadeError) -> FacadeError:
    """The error with each issue naming the option or argument at fault instead of the field."""
    error.issues = [replace(i, location=FLAGS.get(i.location, i.location)) for i in error.issues]
    return error


@app.command()
def add(
    org_code: str = typer.Argument(
        ...,
        metavar="ORG_CODE",
        help="18-character unified social credit code (统一社会信用代码).",
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
    import asyncio

    from facade.errors import FacadeError, UpstreamError
    from facade.security.institutions import InstitutionRegistry

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
        raise fail(_as_flags(exc), json) from exc
    emit(
        summary.as_dict(),
        json,
        lambda d: console.print(
            f"registered {d['orgCode']} {d['name']} (Organization/{d['fhirId']})", highlight=False
        ),
    )


@app.command("list")
def list_(json: JsonOption = False) -> None:
    """List registered institutions."""
    from facade.native import orgs

    with open_database(json).session() as session:
        rows = [org.as_dict() for org in orgs.list_orgs(session)]

    def human(data: list[dict[str, str]]) -> None:
        print_table(
            table(
                ("orgCode", "name", "grade", "status", "FHIR id"),
                (
                    (r["orgCode"], r["name"], r["hospitalGrade"], r["status"], r["fhirId"] or "")
                    for r in data
                ),
                ids=("orgCode", "FHIR id"),
            )
        )

    emit(rows, json, human)


def _set_status(org_code: str, active: bool, json: bool) -> None:
    import asyncio

    from facade.errors import FacadeError
    from facade.security.institutions import InstitutionRegistry

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
        _summary, problem = asyncio.run(change())
    except FacadeError as exc:
        raise fail(exc, json) from exc
    # The registry decides access at once; the Organization's `active` flag follows when HAPI is up.
    fhir_note = "updated" if problem is None else f"not updated: {problem}"
    if problem is not None:
        err_console.print(
            f"[yellow]warning:[/] FHIR Organization {fhir_note}; run the command again later"
        )
    state = "active" if active else "disabled"
    emit(
        {"orgCode": org_code, "status": state, "fhirOrganization": fhir_note},
        json,
        lambda d: console.print(f"{d['orgCode']} is {d['status']}", highlight=False),
    )


@app.command()
def disable(
    org_code: str = typer.Argument(..., metavar="ORG_CODE"), json: JsonOption = False
) -> None:
    """Disable an institution: its apps are refused (1003) at once, whether or not HAPI is up."""
    _set_status(org_code, False, json)


@app.command()
def enable(
    org_code: str = typer.Argument(..., metavar="ORG_CODE"), json: JsonOption = False
) -> None:
    """Re-enable a disabled institution."""
    _set_status(org_code, True, json)
