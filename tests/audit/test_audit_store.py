"""The audit store: hash chain, several writers, tampering found, purge with anchors, batching."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update
from typer.testing import CliRunner

from facade.audit.events import AuditContext, audit_event
from facade.audit.log import AuditLog
from facade.audit.store import AuditQuery, AuditStore, canonical, link
from facade.audit.tables import GENESIS, AuditEntity, AuditRecord
from facade.db import Database
from facade.settings import Settings, get_settings


def _ctx(n: int, client: str = "c1") -> AuditContext:
    ctx = AuditContext(
        door="fhir",
        method="GET",
        path="/fhir/Encounter",
        query=f"_count=20&n={n}",
        interaction="search-type",
        client_id=client,
        role="qc",
        authenticated=True,
    )
    ctx.touch(f"Encounter/e{n}")
    ctx.touch_patient(f"Patient/p{n % 3}")
    return ctx


def _event(n: int, recorded: datetime, client: str = "c1") -> tuple[str, dict[str, Any]]:
    return "fhir", audit_event(
        _ctx(n, client), event_id=f"ev-{n}", recorded=recorded, status=200, base_url="http://f/fhir"
    )


def test_chain_links_every_event_to_the_one_before(database: Database) -> None:
    store = AuditStore(database)
    now = datetime.now(UTC)
    store.append([_event(n, now) for n in range(3)])
    store.append([_event(3, now)])
    with database.session() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    previous = GENESIS
    for row in rows:  # recomputed here from the definition, not by the store's verify
        body = orjson.dumps(orjson.loads(row.body), option=orjson.OPT_SORT_KEYS)
        assert row.hash == __import__("hashlib").sha256(previous.encode() + body).hexdigest()
        previous = row.hash
    result = store.verify()
    assert result.ok and result.checked == 4 and result.last_seq == 4


def test_two_writer_processes_share_one_gapless_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Database(url).upgrade()
    writers = [AuditStore(Database(url)), AuditStore(Database(url))]  # separate engines and pools
    now = datetime.now(UTC)

    def write(k: int) -> None:
        for batch in range(10):
            writers[k].append([_event(1000 * k + 10 * batch + i, now) for i in range(10)])

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = writers[0].verify()
    assert result.ok and result.checked == 200
    with Database(url).session() as session:
        seqs = list(session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
    assert seqs == list(range(1, 201))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "hash mismatch"),
        ("column", "column client_id"),
        ("entity", "entity index"),
        ("delete", "missing"),
        ("truncate", "chain head"),
    ],
)
def test_verify_names_the_first_broken_link(database: Database, tamper: str, reason: str) -> None:
    store = AuditStore(database)
    now = datetime.now(UTC)
    store.append([_event(n, now) for n in range(6)])
    with database.session() as session:
        if tamper == "body":
            row = session.get(AuditRecord, 3)
            assert row is not None
            changed = orjson.loads(row.body) | {"outcome": "4"}  # make a refusal look like success
            row.body = canonical(changed).decode()
        elif tamper == "column":
            session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(client_id="x"))
        elif tamper == "entity":
            session.execute(delete(AuditEntity).where(AuditEntity.seq == 3))
        elif tamper == "delete":
            session.execute(delete(AuditEntity).where(AuditEntity.seq == 3))
            session.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
        else:
            session.execute(delete(AuditEntity).where(AuditEntity.seq == 6))
            session.execute(delete(AuditRecord).where(AuditRecord.seq == 6))
    result = store.verify()
    assert result.broken is not None and reason in result.broken.reason
    assert result.broken.seq == (3 if tamper != "truncate" else 6)
    assert result.checked == (2 if tamper != "truncate" else 5)


def test_purge_removes_a_prefix_and_the_rest_still_verifies(database: Database) -> None:
    store = AuditStore(database)
    now = datetime.now(UTC)
    old = now - timedelta(days=200)
    # seq 1-3 old, 4 recent, 5 old again (stored after a newer one: waits for the next purge)
    store.append([_event(n, old) for n in range(3)] + [_event(3, now), _event(4, old)])
    result = store.purge(now - timedelta(days=180))
    assert result == {"deleted": 3, "purged_through": 3}
    check = store.verify()
    assert check.ok and check.anchor_seq == 3 and check.checked == 2
    assert store.status()["stored"] == 2
    assert store.purge(now - timedelta(days=180))["deleted"] == 0  # nothing more in the prefix
    store.append([_event(9, now)])
    assert store.verify().ok
    with database.session() as session:  # tampering after a purge is still found
        session.execute(update(AuditRecord).where(AuditRecord.seq == 4).values(hash="0" * 64))
    broken = store.verify().broken
    assert broken is not None and broken.seq == 4


def test_search_filters_pages_and_sorts(database: Database) -> None:
    store = AuditStore(database)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    store.append(
        [_event(n, base + timedelta(minutes=n), "c1" if n % 2 else "c2") for n in range(7)]
    )
    page = store.search(AuditQuery(count=3))
    first = [orjson.loads(b)["id"] for _, b in page.events]
    assert first == ["ev-6", "ev-5", "ev-4"] and page.next is not None
    rest = store.search(AuditQuery(count=3, cursor=page.next))
    assert [i for i, _ in rest.events] == ["ev-3", "ev-2", "ev-1"]
    assert [i for i, _ in store.search(AuditQuery(clients=["c2"], newest_first=False)).events] == [
        "ev-0",
        "ev-2",
        "ev-4",
        "ev-6",
    ]
    patient = store.search(AuditQuery(entities=["Patient/p1"]))  # n % 3 == 1
    assert sorted(i for i, _ in patient.events) == ["ev-1", "ev-4"]
    window = AuditQuery(
        after=[base + timedelta(minutes=2)], before=[base + timedelta(minutes=4)]
    )  # [2, 4)
    assert sorted(i for i, _ in store.search(window).events) == ["ev-2", "ev-3"]
    assert store.count(AuditQuery(subtypes=["search-type"], outcomes=["0"])) == 7


def test_a_request_returns_only_once_its_event_is_committed_and_commits_are_shared(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(settings, database)
    transactions: list[int] = []
    append = log.store.append

    def counted(events: Any) -> int:
        transactions.append(len(events))
        return append(events)

    monkeypatch.setattr(log.store, "append", counted)

    async def request(n: int) -> bool:
        event_id = await log.record_async(_ctx(n), 200)
        return log.store.get(event_id) is not None  # committed when the request may answer

    async def scenario() -> list[bool]:
        stop = asyncio.Event()
        writer = asyncio.create_task(log.run(stop))
        await asyncio.sleep(0)
        seen = await asyncio.gather(*(request(n) for n in range(40)))
        seen.append(await request(40))  # alone: its own transaction, at once
        stop.set()
        await writer
        return list(seen)

    assert all(asyncio.run(scenario()))
    assert sum(transactions) == 41 and len(transactions) < 41  # 40 concurrent: grouped
    assert transactions[-1] == 1 and log.pending == 0 and log.verify().ok
    log.record(_ctx(99), 200)  # no writer running (an operator command): written at once
    assert log.store.status()["stored"] == 42


def test_a_round_takes_what_queued_while_the_loop_released_the_last_one(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(settings, database)
    rounds: list[int] = []
    committed = threading.Event()
    append = log.store.append

    def counted(events: Any) -> int:
        head = append(events)
        rounds.append(len(events))
        committed.set()
        return head

    monkeypatch.setattr(log.store, "append", counted)

    async def scenario() -> list[str]:
        stop = asyncio.Event()
        writer = asyncio.create_task(log.run(stop))
        await asyncio.sleep(0)
        first = asyncio.create_task(log.record_async(_ctx(0), 200))
        await asyncio.sleep(0)  # queued: the writer takes it alone
        assert committed.wait(5)  # the loop is busy meanwhile, as under load
        later = [asyncio.create_task(log.record_async(_ctx(n), 200)) for n in (1, 2)]
        ids = await asyncio.gather(first, *later)
        stop.set()
        await writer
        return list(ids)

    ids = asyncio.run(scenario())
    # The two that queued before the first was released go in one transaction, not one each.
    assert rounds == [1, 2]
    assert all(log.store.get(event_id) is not None for event_id in ids) and log.verify().ok


def test_events_queued_when_the_writer_stops_are_committed_before_it_returns(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(settings, database)
    gate = threading.Event()
    append = log.store.append

    def held(events: Any) -> int:
        gate.wait(5)  # the database is slow: the first round is still being written
        return append(events)

    monkeypatch.setattr(log.store, "append", held)

    async def scenario() -> tuple[list[str], int, bool]:
        stop = asyncio.Event()
        writer = asyncio.create_task(log.run(stop))
        await asyncio.sleep(0)
        requests = [asyncio.create_task(log.record_async(_ctx(n), 200)) for n in range(5)]
        await asyncio.sleep(0.05)
        waiting = log.pending
        stop.set()
        await asyncio.sleep(0.05)
        returned_early = writer.done()
        gate.set()
        await writer
        return await asyncio.gather(*requests), waiting, returned_early

    ids, waiting, returned_early = asyncio.run(scenario())
    assert waiting == 5 and not returned_early and log.pending == 0
    assert all(log.store.get(event_id) is not None for event_id in ids)
    later = asyncio.run(log.record_async(_ctx(9), 200))  # writer gone: written by the request
    assert log.store.get(later) is not None and log.verify().ok
    assert log.store.status()["stored"] == 6


def test_outbox_rows_of_the_previous_version_become_the_chain(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(database.alembic_config(), "security_0001")
    old = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = [_event(n, old + timedelta(seconds=n))[1] for n in range(3)]
    with database.engine.begin() as conn:
        for event in reversed(bodies):  # stored out of order: the migration orders by time
            conn.execute(
                text(
                    "INSERT INTO audit_record (id, recorded_at, door, interaction, outcome, body,"
                    " attempts, next_attempt_at) VALUES (:id, :at, 'fhir', 'search-type', '0',"
                    " :body, 0, :at)"
                ),
                {"id": event["id"], "at": old, "body": orjson.dumps(event).decode()},
            )
    database.upgrade()
    store = AuditStore(database)
    assert store.verify().ok and store.status()["stored"] == 3
    assert [i for i, _ in store.search(AuditQuery(newest_first=False)).events] == [
        "ev-0",
        "ev-1",
        "ev-2",
    ]
    assert store.search(AuditQuery(entities=["Encounter/e1"])).events[0][0] == "ev-1"


def test_audit_cli_status_verify_purge(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facade.cli.main import app

    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    get_settings.cache_clear()
    store = AuditStore(database)
    old = datetime.now(UTC) - timedelta(days=400)
    store.append([_event(0, old), _event(1, old), _event(2, datetime.now(UTC))])
    runner = CliRunner()
    try:
        status = orjson.loads(runner.invoke(app, ["audit", "status", "--json"]).output)
        assert status["stored"] == 3 and status["headSeq"] == 3
        verified = runner.invoke(app, ["audit", "verify", "--json"])
        assert verified.exit_code == 0 and orjson.loads(verified.output)["checked"] == 3
        purged = orjson.loads(runner.invoke(app, ["audit", "purge", "--json"]).output)
        assert (purged["deleted"], purged["purgedThrough"]) == (2, 2)
        with database.session() as session:
            session.execute(
                insert(AuditRecord).values(
                    seq=4,
                    id="forged",
                    recorded_at=datetime.now(UTC),
                    door="fhir",
                    type_code="rest",
                    interaction="read",
                    action="R",
                    outcome="0",
                    body="{}",
                    hash=link("f" * 64, b"{}"),
                )
            )
        broken = runner.invoke(app, ["audit", "verify", "--json"])
        assert broken.exit_code == 3
        assert orjson.loads(broken.output)["broken"]["seq"] == 4
    finally:
        get_settings.cache_clear()
