"""``vte-facade console assets``: install the console's pinned front-end files (npm ci, checksum)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from facade.cli.output import JsonOption, console, emit, fail
from facade.console import vendor
from facade.errors import FacadeError

app = typer.Typer(help="The web console for people (served at /console).", no_args_is_help=True)
WEB_DIR = Path(__file__).resolve().parents[2] / "web"


@app.command()
def assets(
    web: Annotated[
        Path, typer.Option(help="Folder with package.json and package-lock.json.")
    ] = WEB_DIR,
    check: bool = typer.Option(False, "--check", help="Only verify the installed files."),
    json: JsonOption = False,
) -> None:
    """Copy ECharts (and any other pinned file) out of npm into the package, digest checked."""
    try:
        if not check:
            vendor.install(web)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    problems = vendor.verified()
    data = {
        "files": [
            {"name": n, "version": vendor.manifest()[n].version, "problem": p}
            for n, p in problems.items()
        ]
    }

    def human(d: dict[str, list[dict[str, str | None]]]) -> None:
        for f in d["files"]:
            console.print(f"{f['name']} {f['version']}: {f['problem'] or 'ok'}")

    emit(data, json, human)
    if any(problems.values()):
        raise typer.Exit(1)
