"""``vte-facade user add|disable|enable|reset|list``: the people who sign in to the console."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings
from facade.console.users import ConsoleRole, UserStore
from facade.errors import FacadeError

app = typer.Typer(
    help="Console accounts for people (admin, qc, hospital, auditor).", no_args_is_help=True
)


def _store(json: bool) -> UserStore:
    return UserStore(settings(), open_database(json))


def _problem(exc: FacadeError) -> str:
    details = "; ".join(f"--{i.location}: {i.message}" for i in exc.issues)
    return exc.message + (f" ({details})" if details else "")


def _show_enrolment(data: dict[str, Any]) -> None:
    lines = [
        f"username         {data['username']}  ({data['role']}"
        + (f", {data['orgCode']}" if data["orgCode"] else "")
        + ")",
        f"one-time password {data['password']}",
    ]
    if data["totpSecret"]:
        lines += [
            f"TOTP secret      {data['totpSecret']}",
            f"TOTP URI         {data['totpUri']}",
        ]
    console.print(
        Panel(
            "\n".join(lines),
            title="shown once: hand it over in person, the platform cannot show it again",
            subtitle="the password must be changed at first sign-in",
        ),
        highlight=False,
        soft_wrap=True,
    )
    if data["totpSecret"]:
        console.print(
            "Add the secret (or the URI) to an authenticator app (TOTP, 6 digits, 30 s).",
            highlight=False,
        )


@app.command()
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name: 3-64 of a-z 0-9 . _ -")],
    role: Annotated[ConsoleRole, typer.Option(help="admin, qc, hospital or auditor.")],
    name: str | None = typer.Option(None, help="Display name (default: the username)."),
    org: str | None = typer.Option(None, help="orgCode of the institution (hospital role only)."),
    totp: bool = typer.Option(
        False,
        "--totp",
        help="Give a qc or hospital user a second factor (admin and auditor always have one).",
    ),
    json: JsonOption = False,
) -> None:
    """Create an account; prints a one-time password (and the TOTP secret) once."""
    try:
        enrolment = _store(json).add(
            username, role=role, display_name=name, org_code=org, second_factor=totp
        )
    except FacadeError as exc:
        raise fail(_problem(exc), json) from exc
    emit(enrolment.as_dict(), json, _show_enrolment)


@app.command()
def reset(
    username: str = typer.Argument(...),
    totp: bool = typer.Option(False, "--totp", help="Also issue a new TOTP secret (lost phone)."),
    json: JsonOption = False,
) -> None:
    """New one-time password, lock-out cleared, every session ended (new TOTP secret with --totp)."""
    try:
        enrolment = _store(json).reset(username, new_second_factor=totp)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(enrolment.as_dict(), json, _show_enrolment)


def _set(username: str, active: bool, json: bool) -> None:
    try:
        info = _store(json).set_status(username, active=active)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(info.as_dict(), json, lambda d: console.print(f"{d['username']} is {d['status']}"))


@app.command()
def disable(username: str = typer.Argument(...), json: JsonOption = False) -> None:
    """Disable an account; its sessions end at once."""
    _set(username, False, json)


@app.command()
def enable(username: str = typer.Argument(...), json: JsonOption = False) -> None:
    """Re-enable a disabled account."""
    _set(username, True, json)


@app.command("list")
def list_(json: JsonOption = False) -> None:
    """Every account (never passwords or TOTP secrets)."""
    rows = [u.as_dict() for u in _store(json).list()]

    def human(data: list[dict[str, Any]]) -> None:
        table = Table("username", "role", "orgCode", "status", "2FA", "last sign-in", "name")
        for row in data:
            table.add_row(
                row["username"],
                row["role"],
                row["orgCode"] or "-",
                row["status"],
                "yes" if row["secondFactor"] else "no",
                row["lastLoginAt"] or "-",
                row["displayName"],
            )
        console.print(table, soft_wrap=True)

    emit(rows, json, human)
