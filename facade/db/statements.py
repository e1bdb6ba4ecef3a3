"""Statement helpers for both supported databases: ``INSERT … ON CONFLICT``, and IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """An ``insert(table)`` of the session's dialect, which has ``on_conflict_do_*``.

    ``ON CONFLICT`` instead of catching IntegrityError: on PostgreSQL a failed insert aborts the
    whole transaction, and SAVEPOINTs are unreliable with the pysqlite driver.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect}")


def insert_new(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (one statement), skipping those whose unique key is already stored, by a
    concurrent writer too."""
    if rows:
        session.execute(dialect_insert(session, table).on_conflict_do_nothing(), rows)


# Values per SQL IN (...) list: far below SQLite's and psycopg's parameter limits.
IN_LIST_SIZE = 500


def in_lists(values: Iterable[str], size: int = IN_LIST_SIZE) -> Iterator[list[str]]:
    """The distinct values, sorted, in pieces small enough for one SQL IN list."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]
