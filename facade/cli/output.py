"""Shared output helpers: one call prints either human text or a JSON document.

Every ``vte-facade`` command imports this module, so it stays light: rich, the settings and
the database load on first use, not at start-up (``vte-facade --help`` and ``--json`` output
never pay for them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, cast

import orjson
import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from facade.db import Database
    from facade.errors import FacadeError
    from facade.settings import Settings


class _LazyConsole:
    """A rich Console created on first use (importing rich costs a noticeable part of start-up)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def real(self) -> Console:
        """The Console itself (for rich objects that need a true Console, e.g. Progress)."""
        if self._console is None:
            from rich.console import Console

            # soft_wrap: text lines are never broken by rich (a canonical string, a URL or an
            # identifier must come out whole when piped); tables still fit the width.
            self._console = Console(stderr=self._stderr, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


_out, _err = _LazyConsole(stderr=False), _LazyConsole(stderr=True)
console = cast("Console", _out)
err_console = cast("Console", _err)


def real_console(stderr: bool = False) -> Console:
    """The Console behind ``console`` / ``err_console``."""
    return (_err if stderr else _out).real()


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
    """Report an error (to stderr for people, as JSON for scripts) and return the Exit to raise.

    The issues an error carries (which field or option broke which rule) are printed with it.
    """
    if isinstance(error, str):
        message, issues = error, []
    else:
        message = error.message
        issues = [
            {"field": i.location, "rule": i.rule, "message": i.message}
            for i in error.issues
            if i.message != error.message or i.location
        ]
    if as_json:
        typer.echo(orjson.dumps({"error": message, **({"issues": issues} if issues else {})}))
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
        for issue in issues:
            where = f"{issue['field']}: " if issue["field"] else ""
            err_console.print(f"  {where}{issue['message']}", highlight=False, markup=False)
    return typer.Exit(code)


def settings() -> Settings:
    """Fresh settings for one CLI invocation (environment + .env), secrets filled in."""
    from facade.settings import Settings, ensure_secrets

    return ensure_secrets(Settings())


def open_database(as_json: bool) -> Database:
    """The facade database, refusing to work on a schema that misses migrations."""
    from facade.db import Database

    database = Database(settings().database_url)
    pending = database.pending_migrations()
    if pending:
        raise fail(
            f"database schema is not current (pending: {', '.join(sorted(pending))}); run `vte-facade db upgrade`",
            as_json,
        )
    return database


_WORD_WIDTH_CAP = 24


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    ids: Collection[str] = (),
    title: str | None = None,
) -> Table:
    """A table whose identifier columns (``ids``: appId, orgCode, client id ...) are never
    shortened or wrapped; the other columns wrap instead. Print it with ``print_table``."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    cells = [list(row) for row in rows]
    out = Table(title=title, box=box.SIMPLE_HEAD)
    for n, header in enumerate(headers):
        if header in ids:
            out.add_column(header, no_wrap=True)
            continue
        # Wrap between words, but keep a column as wide as its longest word (up to a point):
        # a table a little wider than the terminal reads better than names one character wide.
        words = [w for text in (header, *(row[n] for row in cells)) for w in str(text).split()]
        widest = max((cell_len(w) for w in words), default=1)
        out.add_column(header, overflow="fold", min_width=min(widest, _WORD_WIDTH_CAP))
    for row in cells:
        out.add_row(*row)
    return out


def print_table(grid: Table) -> None:
    """Print a table at the console width, or wider when its identifiers need more: a line the
    terminal wraps is better than a value someone must type next shown cut off."""
    from rich.measure import Measurement

    out = real_console()
    needed = Measurement.get(out, out.options.update_width(10_000), grid).minimum
    width = out.width
    if needed <= width:
        out.print(grid)
        return
    out.width = needed
    try:
        out.print(grid)
    finally:
        out.width = width


def _flags_without_type() -> None:
    """Typer 0.29's rich help prints ``<bool>`` next to every flag (``--json``, ``--help``) as if
    it took a value; show no type for flags, as click's plain help does."""
    from typer import core

    option = getattr(core, "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None:
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and getattr(self, "metavar", None) is None:
            return None
        result: str | None = shown(self, ctx)
        return result

    option.display_type_rich = display_type_rich


_flags_without_type()
