"""``vte-facade hapi build|start|stop|status``: the local HAPI FHIR JPA server."""

from __future__ import annotations

import typer

from facade.cli.output import JsonOption, console, emit, fail, settings
from facade.hapi import HapiLauncher, HapiStatus
from facade.hapi.launcher import HapiError

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
    launcher = HapiLauncher(settings())
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
    """Build when needed, start HAPI and wait for /fhir/metadata."""
    launcher = HapiLauncher(settings())
    if not json:
        console.print(f"starting HAPI FHIR (log: {launcher.log_file}) ...")
    try:
        status = launcher.start()
    except HapiError as exc:
        raise fail(exc, json) from exc
    emit(status.as_dict(), json, lambda _: _show(status))


@app.command()
def stop(json: JsonOption = False) -> None:
    """Stop the HAPI process recorded in the pid file."""
    launcher = HapiLauncher(settings())
    stopped = launcher.stop()
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
    current = HapiLauncher(settings()).status()
    emit(current.as_dict(), json, _show)
    if current.state != "running":
        raise typer.Exit(3)
