"""``vte-facade hapi build|start|stop|status``: the local HAPI FHIR JPA server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from facade.cli.output import JsonOption, console, emit, fail, settings

if TYPE_CHECKING:
    from facade.hapi import HapiLauncher, HapiStatus


def _launcher() -> HapiLauncher:
    from facade.hapi import HapiLauncher

    return HapiLauncher(settings())


app = typer.Typer(
    help="Manage the local HAPI FHIR JPA server (built from docker/hapi).", no_args_is_help=True
)


def _show(status: HapiStatus) -> None:
    colour = {"running": "green", "unresponsive": "yellow"}.get(status.state, "red")
    pid = f" (pid {status.pid})" if status.pid else ""
    console.print(f"HAPI FHIR: [{colour}]{status.state}[/]{pid} at {status.base_url}")


@app.command()
def build(
    force: bool = typer.Option(False, help="Rebuild even if the jar is up to date."),
    json: JsonOption = False,
) -> None:
    """Build the HAPI jar with Maven if it is missing or older than its sources."""
    from facade.hapi.launcher import HapiError

    launcher = _launcher()
    try:
        ran = launcher.build(force=force)
    except HapiError as exc:
        raise fail(exc, json) from exc
    emit(
        {"built": ran, "jar": str(launcher.jar)},
        json,
        lambda d: console.print(("built " if d["built"] else "up to date: ") + d["jar"]),
    )


@app.command()
def start(json: JsonOption = False) -> None:
    """Build when needed, start HAPI and wait for /fhir/metadata (nothing to do if it runs)."""
    from facade.hapi.launcher import HapiError

    launcher = _launcher()
    current = launcher.status()
    if current.state == "running":
        emit(
            {**current.as_dict(), "alreadyRunning": True},
            json,
            lambda _: console.print(
                f"HAPI FHIR is already running (pid {current.pid}) at {current.base_url}"
            ),
        )
        return
    if not json:
        console.print(f"starting HAPI FHIR (log: {launcher.log_file}) ...")
    try:
        status = launcher.start()
    except HapiError as exc:
        raise fail(exc, json) from exc
    emit({**status.as_dict(), "alreadyRunning": False}, json, lambda _: _show(status))


@app.command()
def stop(json: JsonOption = False) -> None:
    """Stop the HAPI process recorded in the pid file."""
    stopped = _launcher().stop()
    emit(
        {"stopped": stopped},
        json,
        lambda d: console.print(
            "HAPI FHIR stopped" if d["stopped"] else "HAPI FHIR was not running"
        ),
    )


@app.command()
def status(json: JsonOption = False) -> None:
    """Report state, pid and base URL; exits 3 when HAPI is not running."""
    current = _launcher().status()
    emit(current.as_dict(), json, lambda _: _show(current))
    if current.state != "running":
        raise typer.Exit(3)
