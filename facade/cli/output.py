"""Shared output helpers: one call prints either human text or a JSON document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from facade.errors import FacadeError
from facade.settings import Settings, ensure_secrets

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")
]


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON for scripts, or through ``human`` for people."""
    if as_json:
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode())
    else:
        human(data)


def fail(error: FacadeError | str, as_json: bool, code: int = 1) -> typer.Exit:
    """Report an error (to stderr for people, as JSON for scripts) and return the Exit to raise."""
    message = error.message if isinstance(error, FacadeError) else error
    if as_json:
        typer.echo(orjson.dumps({"error": message}).decode())
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def settings() -> Settings:
    """Fresh settings for one CLI invocation (environment + .env), secrets filled in."""
    return ensure_secrets(Settings())
