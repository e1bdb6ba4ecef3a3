"""``vte-facade db upgrade|status``: the facade's own database schema (Alembic)."""

from __future__ import annotations

import typer

from facade.cli.output import JsonOption, console, emit, settings

app = typer.Typer(help="Manage the facade's own database schema.", no_args_is_help=True)


@app.command()
def upgrade(json: JsonOption = False) -> None:
    """Apply every pending migration."""
    from facade.db import Database

    database = Database(settings().database_url)
    database.upgrade()
    emit(
        {"database": _safe_url(database.url), "pending": []},
        json,
        lambda d: console.print(f"database schema is current ({d['database']})"),
    )


@app.command()
def status(json: JsonOption = False) -> None:
    """List migrations not yet applied; exits 3 when some are pending."""
    from facade.db import Database

    database = Database(settings().database_url)
    pending = sorted(database.pending_migrations())
    emit(
        {"database": _safe_url(database.url), "pending": pending},
        json,
        lambda d: console.print(
            "pending: " + ", ".join(d["pending"]) if d["pending"] else "schema is current"
        ),
    )
    if pending:
        raise typer.Exit(3)


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
