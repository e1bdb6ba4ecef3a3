"""Statement helpers for both supported databases: ``INSERT … ON CONFLICT``, many-row INSERTs,
and IN lists."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Insert,
    Row,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session


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


def insert_rows(
    executor: Connection | Session, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (dicts with the same keys) in one statement.

    On PostgreSQL each column travels as one array and the rows come back out of ``unnest``: one
    short statement, prepared once, whatever the number of rows. psycopg's ``executemany`` sends a
    Bind and an Execute per row, which cost more CPU than the rows' data (an AuditEvent names up
    to twenty resources, a row each). SQLite's ``executemany`` is a C loop already.
    """
    if not rows:
        return
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    if bind.dialect.name != "postgresql":
        executor.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    arrays = {name: [row[name] for row in rows] for name in columns}
    executor.execute(_unnest_insert(table, columns), arrays)


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...]) -> Insert:
    """``INSERT INTO table (columns) SELECT * FROM unnest(CAST(:c AS type[]), ...) AS t(columns)``."""
    return insert(table).from_select(list(columns), unnest_rows(table, columns))


def unnest_rows(table: Table, columns: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL: ``SELECT * FROM unnest(CAST(:<column> AS type[]), ...)``, the rows of
    ``table``'s ``columns`` passed as one array parameter per column."""
    arrays = [cast(bindparam(name), postgresql.ARRAY(_element(table, name))) for name in columns]
    rows = func.unnest(*arrays).table_valued(*columns).render_derived()
    return select(*rows.c)


def json_rows(table: Table, columns: tuple[str, ...], name: str) -> Select[Any]:
    """PostgreSQL: ``SELECT * FROM json_to_recordset(CAST(:name AS json)) AS t(column type, ...)``,
    the rows of ``table``'s ``columns`` passed as one JSON array of objects (``json_param``).

    For rows with text, long or many: psycopg escapes each element of a text array in Python
    (a regular-expression search, then a substitution per quote), where orjson and PostgreSQL's
    JSON parser are C. A lone audit event's 40 entity names cost 0.2 ms more as arrays.
    """
    typed = [column(c, _element(table, c)) for c in columns]
    rows = func.json_to_recordset(cast(bindparam(name), JSON)).table_valued(*typed)
    return select(*rows.render_derived(with_types=True).c)


def json_param(rows: Sequence[Mapping[str, Any]]) -> str:
    """The parameter of ``json_rows``: the rows as a JSON array (datetimes as ISO 8601)."""
    return orjson.dumps(list(rows)).decode()


def _element(table: Table, name: str) -> Any:
    """The element type of a column in an array or a JSON record: strings as TEXT, because a cast
    to VARCHAR(n) would cut a long value silently where the INSERT into the column refuses it."""
    return _as_element(table.c[name].type)


def _as_element(kind: Any) -> Any:
    """``_element`` of a column type (``select_in`` has a column, not a table and a name)."""
    return Text() if isinstance(kind, String) else kind


# Values per SQL IN (...) list: far below SQLite's and psycopg's parameter limits.
IN_LIST_SIZE = 500


def select_in(
    executor: Connection | Session,
    statement: Select[Any],
    key: ColumnElement[Any] | QueryableAttribute[Any],
    values: Iterable[str],
    size: int = IN_LIST_SIZE,
) -> Iterator[Row[*tuple[Any, ...]]]:
    """The rows of ``statement`` whose ``key`` is one of ``values`` (distinct), with the
    statement's column names.

    On PostgreSQL each value is looked up on its own: ``unnest(:values) JOIN LATERAL (statement
    AND key = value OFFSET 0)``, a probe of the key's index per value whatever the
    planner knows. An ``IN`` list's plan depends on column statistics, which a new table has
    none of until autovacuum's first ANALYZE: the prepared generic plan then read all of an
    institution's rows and compared each with every listed value (70 ms for 200 values among
    19,000 rows, 0.6 ms as probes). ``OFFSET 0`` keeps the subquery from being merged into a
    join the planner would choose by the same missing statistics. SQLite: ``IN`` lists. Either
    way ``size`` values per query.
    """
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    probes = bind.dialect.name == "postgresql"
    for chunk in in_lists(values, size):
        chosen = _probe_each(statement, key, chunk) if probes else statement.where(key.in_(chunk))
        yield from executor.execute(chosen)


def _probe_each(
    statement: Select[Any], key: ColumnElement[Any] | QueryableAttribute[Any], values: list[str]
) -> Select[Any]:
    """``select_in`` on PostgreSQL: ``statement`` run once per value of ``unnest(:values)``."""
    kind = (key.expression if isinstance(key, QueryableAttribute) else key).type
    keys = (
        func.unnest(
            cast(bindparam("select_in_values", values), postgresql.ARRAY(_as_element(kind)))
        )
        .table_valued("value")
        .render_derived()
    )
    each = statement.where(key == keys.c.value).offset(0).lateral()
    return select(*each.c).select_from(keys).join(each, true())


def in_lists(values: Iterable[str], size: int = IN_LIST_SIZE) -> Iterator[list[str]]:
    """The distinct values, sorted, in pieces small enough for one SQL IN list."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]
