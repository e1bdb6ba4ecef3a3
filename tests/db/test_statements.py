"""Statement helpers on both databases: ``insert_rows`` (unnest on PostgreSQL), ``json_rows``, and
the audit store that uses them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pg_kit import PASSWORD, USER, throwaway_cluster
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError

from bench.pgcluster import PgCluster
from facade.audit import store as audit_store
from facade.audit.events import AuditContext, audit_event
from facade.audit.store import AuditQuery, AuditStore
from facade.db import Database
from facade.db.statements import insert_rows, json_param, json_rows, select_in

# Values an array literal has to quote or escape, and some it must not mangle.
AWKWARD = [
    'say "hi"',
    "back\\slash",
    "a,b",
    "{braces}",
    "NULL",
    "",
    " padded ",
    "病区/内科",
    "x" * 100,
    None,
]

_ROWS = Table(
    "awkward",
    MetaData(),
    Column("n", Integer, primary_key=True),
    Column("label", String(100), nullable=True),
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    with throwaway_cluster(47150, "statements", "audit", "two_writers", "holding") as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'statements.db'}"
    cluster: PgCluster = request.getfixturevalue("cluster")
    return cluster.url("statements", USER, PASSWORD)


@contextmanager
def _awkward_table(url: str) -> Iterator[Database]:
    """A database with an empty ``awkward`` table."""
    database = Database(url)
    try:
        _ROWS.drop(database.engine, checkfirst=True)
        _ROWS.create(database.engine)
        yield database
    finally:
        database.dispose()


def test_insert_rows_stores_every_value_as_given(url: str) -> None:
    with _awkward_table(url) as database:
        rows = [{"n": n, "label": label} for n, label in enumerate(AWKWARD)]
        with database.engine.begin() as connection:
            insert_rows(connection, _ROWS, rows)
            insert_rows(connection, _ROWS, [])  # nothing to do, no statement
        with database.engine.connect() as connection:
            stored = connection.execute(select(_ROWS.c.label).order_by(_ROWS.c.n)).scalars().all()
        assert stored == AWKWARD


def test_select_in_finds_the_rows_of_every_value_once(url: str) -> None:
    with _awkward_table(url) as database:
        labels = [label for label in AWKWARD if label is not None]
        with database.engine.begin() as connection:
            insert_rows(connection, _ROWS, [{"n": n, "label": v} for n, v in enumerate(AWKWARD)])
        statement = select(_ROWS.c.n, _ROWS.c.label).where(_ROWS.c.n < 100)
        with database.session() as session:
            # Duplicates asked once; values that match nothing; SQLite in IN lists of 3.
            asked = [*labels, labels[0], "not there", "NULL "]
            found = list(select_in(session, statement, _ROWS.c.label, asked, size=3))
            assert sorted((row.n, row.label) for row in found) == sorted(
                (n, v) for n, v in enumerate(AWKWARD) if v is not None
            )
            assert list(select_in(session, statement, _ROWS.c.label, [])) == []
            narrowed = statement.where(_ROWS.c.n > 2)  # the statement's own conditions hold
            assert {row.n for row in select_in(session, narrowed, _ROWS.c.label, labels)} == {
                n for n, v in enumerate(AWKWARD) if v is not None and n > 2
            }


def test_insert_rows_refuses_a_value_too_long_for_its_column_on_postgresql(
    cluster: PgCluster,
) -> None:
    # A cast to VARCHAR(100)[] would cut the value silently; the column must refuse it.
    with _awkward_table(cluster.url("statements", USER, PASSWORD)) as database:
        with pytest.raises(DBAPIError, match="too long"), database.engine.begin() as connection:
            insert_rows(connection, _ROWS, [{"n": 1, "label": "ok"}, {"n": 2, "label": "x" * 101}])
        with database.engine.connect() as connection:
            assert connection.execute(select(_ROWS.c.n)).all() == []  # nothing half-written


def test_json_rows_carry_every_value_as_given_and_refuse_one_too_long(cluster: PgCluster) -> None:
    with _awkward_table(cluster.url("statements", USER, PASSWORD)) as database:
        values = [*AWKWARD, "tab\tnew\nline \u2028 \\u0041"]
        rows = [{"n": n, "label": label} for n, label in enumerate(values)]
        statement = insert(_ROWS).from_select(["n", "label"], json_rows(_ROWS, ("n", "label"), "r"))
        with database.engine.begin() as connection:
            connection.execute(statement, {"r": json_param(rows)})
        with database.engine.connect() as connection:
            stored = connection.execute(select(_ROWS.c.label).order_by(_ROWS.c.n)).scalars().all()
        assert stored == values
        too_long = json_param([{"n": 99, "label": "x" * 101}])
        with pytest.raises(DBAPIError, match="too long"), database.engine.begin() as connection:
            connection.execute(statement, {"r": too_long})


def test_audit_events_and_their_entities_are_stored_and_verified_on_postgresql(
    cluster: PgCluster,
) -> None:
    database = Database(cluster.url("audit", USER, PASSWORD))
    try:
        database.upgrade()
        store = AuditStore(database)
        now = datetime.now(UTC)
        events = []
        for n in range(12):
            ctx = AuditContext(door="fhir", method="GET", path="/fhir/Encounter", role="qc")
            ctx.client_id = "qc-1"
            for k in range(20):
                ctx.touch(f"Encounter/e{n}-{k}")
            ctx.touch_patient(f"Patient/p{n % 4}")
            events.append(
                (
                    "fhir",
                    audit_event(
                        ctx, event_id=f"ev-{n}", recorded=now, status=200, base_url="http://f/fhir"
                    ),
                )
            )
        store.append(events[:1])  # a batch of one, then of many
        store.append(events[1:])
        verification = store.verify()
        assert verification.ok, verification.broken
        assert verification.checked == 12
        touched = store.search(AuditQuery(entities=["Encounter/e7-19"]))
        assert [event_id for event_id, _ in touched.events] == ["ev-7"]
        assert store.count(AuditQuery(entities=["Patient/p1"])) == 3
    finally:
        database.dispose()


def _events(first: int, count: int, client: str = "qc-1") -> list[tuple[str, dict[str, Any]]]:
    now = datetime.now(UTC)
    out = []
    for n in range(first, first + count):
        # Quotes, backslashes and CJK in the body: the stored text must be the hashed text.
        ctx = AuditContext(
            door="fhir", method="GET", path="/fhir/Encounter", query=f'q="病区\\{n}"', role="qc"
        )
        ctx.client_id = client
        ctx.touch(f"Encounter/e{n}")
        event = audit_event(ctx, event_id=f"ev-{n}", recorded=now, status=200, base_url="http://f")
        out.append(("fhir", event))
    return out


def test_a_writer_whose_head_is_stale_links_after_the_other_writers_events(
    cluster: PgCluster,
) -> None:
    # Two facade processes on one database: each remembers the head it last wrote and first
    # tries to append after it; the one that remembers an old head must not fork the chain.
    url = cluster.url("two_writers", USER, PASSWORD)
    first, second = Database(url), Database(url)
    try:
        first.upgrade()
        a, b = AuditStore(first), AuditStore(second)
        assert a.append(_events(0, 2)) == 2
        assert b.append(_events(2, 3)) == 5
        assert a.append(_events(5, 1)) == 6  # a remembered 2
        assert a.append(_events(6, 1)) == 7
        assert b.append(_events(7, 2)) == 9  # b remembered 5

        errors: list[BaseException] = []

        def write(store: AuditStore, base: int) -> None:
            try:
                for k in range(15):
                    store.append(_events(base + 10 * k, 1 + k % 3, client=f"c{base}"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=write, args=(s, base)) for s, base in ((a, 100), (b, 1000))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        verification = a.verify()
        assert verification.ok, verification.broken
        assert verification.checked == 9 + 2 * sum(1 + k % 3 for k in range(15))
        with first.engine.connect() as connection:
            seqs = connection.exec_driver_sql("SELECT seq FROM audit_event ORDER BY seq").scalars()
            assert list(seqs) == list(range(1, verification.checked + 1))
        assert a.count(AuditQuery(entities=["Encounter/e6"])) == 1
    finally:
        first.dispose()
        second.dispose()


def test_a_holding_writer_checks_out_once_and_gets_over_a_dropped_connection(
    cluster: PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The audit writer thread holds one connection between appends instead of a pinged
    # checkout per append; a connection that dies fails one append, not the ones after it.
    url = cluster.url("holding", USER, PASSWORD)
    database = Database(url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    checkouts: list[int] = []
    event.listen(database.engine, "checkout", lambda *_: checkouts.append(1))

    def terminate() -> None:  # every other session of the database, as a restart would
        with admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    try:
        database.upgrade()
        store = AuditStore(database)
        assert store.append(_events(0, 1)) == 1  # the first append learns the head
        checkouts.clear()
        with store.holding():
            for n in range(1, 6):
                store.append(_events(n, 1))
            assert len(checkouts) == 1
            terminate()  # within the idle limit: that append fails, the next one gets over it
            with pytest.raises(DBAPIError):
                store.append(_events(6, 1))
            assert store.append(_events(7, 1)) == 7
            assert len(checkouts) == 2
            monkeypatch.setattr(audit_store, "_HELD_IDLE_SECONDS", 0.0)
            store.append(_events(8, 1))
            store.append(_events(9, 1))
            assert len(checkouts) == 4  # idle past the limit: given back, a pinged one taken
            terminate()  # past the idle limit: the pinged checkout replaces it, nothing fails
            assert store.append(_events(10, 1)) == 10
        assert database.engine.pool.checkedout() == 0  # given back when the block ends
        store.append(_events(11, 1))  # outside the block: a checkout per append, as before
        assert len(checkouts) == 6
        verification = store.verify()
        assert verification.ok, verification.broken
        assert verification.checked == 11  # the failed append stored nothing
        assert store.count(AuditQuery(entities=["Encounter/e6"])) == 0
    finally:
        admin.dispose()
        database.dispose()
