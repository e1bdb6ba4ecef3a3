"""``vte-facade client register|list|disable``: systems that use the FHIR door (SMART Backend Services)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facade.cli.output import (
    JsonOption,
    console,
    emit,
    fail,
    open_database,
    print_table,
    settings,
    table,
)
from facade.security.roles import Role

if TYPE_CHECKING:
    from facade.errors import FacadeError

app = typer.Typer(
    help="Register and manage FHIR API clients (SMART Backend Services).", no_args_is_help=True
)


def _issues(exc: FacadeError) -> str:
    details = "; ".join(f"{i.location}: {i.message}" for i in exc.issues)
    return f"{exc.message}" + (f" ({details})" if details else "")


def _show(data: dict[str, Any]) -> None:
    console.print(
        f"client [bold]{data['clientId']}[/] ({data['role']}"
        + (f", org {data['orgCode']}" if data["orgCode"] else "")
        + ")",
        highlight=False,
    )
    console.print(f"  scopes   {data['scopes']}", highlight=False)
    console.print(f"  key ids  {', '.join(str(k) for k in data['keyIds'])}", highlight=False)
    console.print(f"  token endpoint  {settings().public_base_url}/auth/token", highlight=False)


@app.command()
def register(
    name: Annotated[str, typer.Option(help="What the system is, e.g. 'XX医院 VTE 系统 (FHIR)'.")],
    role: Annotated[Role, typer.Option(help="hospital, qc, researcher, auditor or admin.")],
    jwks: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="File with the client's PUBLIC JWKS.")
    ],
    scope: Annotated[
        list[str], typer.Option("--scope", help="SMART system scope; repeat for several.")
    ],
    org: Annotated[
        str | None, typer.Option(help="18-character unified social credit code (hospital role).")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="Client id to use (default: <role>-<random>).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Register a client with its public key set; prints the client id it must use as iss/sub."""
    import orjson

    from facade.errors import FacadeError
    from facade.security.clients import ClientRegistry

    try:
        key_set = orjson.loads(jwks.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise fail(f"{jwks} is not JSON: {exc}", json) from exc
    registry = ClientRegistry(open_database(json))
    try:
        info = registry.register(
            name=name, role=role, org_code=org, jwks=key_set, scopes=scope, client_id=client_id
        )
    except FacadeError as exc:
        raise fail(_issues(exc), json) from exc
    emit(info.summary(), json, _show)


@app.command("list")
def list_clients(json: JsonOption = False) -> None:
    """Every registered client."""
    from facade.security.clients import ClientRegistry

    clients = [c.summary() for c in ClientRegistry(open_database(json)).list()]

    def human(rows: list[dict[str, Any]]) -> None:
        print_table(
            table(
                ("client id", "role", "org", "scopes", "enabled", "name"),
                (
                    (
                        row["clientId"],
                        row["role"],
                        row["orgCode"] or "-",
                        row["scopes"],
                        "yes" if row["enabled"] else "no",
                        row["name"],
                    )
                    for row in rows
                ),
                ids=("client id", "org"),
            )
        )

    emit(clients, json, human)


@app.command()
def disable(
    client_id: str = typer.Argument(..., metavar="CLIENT_ID", help="The client to disable."),
    json: JsonOption = False,
) -> None:
    """Stop a client: no new tokens, and its current tokens fail from the next request on."""
    from facade.errors import FacadeError
    from facade.security.clients import ClientRegistry

    try:
        info = ClientRegistry(open_database(json)).disable(client_id)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(info.summary(), json, lambda d: console.print(f"client {d['clientId']} disabled"))
