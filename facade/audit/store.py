"""AuditStore: append AuditEvents to the hash chain, search and read them, verify the chain, purge.

Design (see facade/audit/tables.py and README "Audit"): one chain per installation, serialised by
the database — a writer locks the ``audit_chain`` head row, links its whole batch to the head's
hash, inserts it and moves the head, all in one transaction; so any number of facade processes
can write, and their batches interleave whole. ``hash(n) = SHA-256(hash(n-1) + canonical JSON(n))``
where the canonical JSON is orjson's with sorted keys (what the ``body`` column holds). On
PostgreSQL a writer first tries the head it last saw, in one statement that writes nothing if
another writer moved the head meanwhile (``_append_after``). A purge removes a prefix of the
chain and leaves an anchor; verification starts at the newest anchor.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from facade.audit.tables import GENESIS, AuditAnchor, AuditChain, AuditEntity, AuditRecord
from facade.db import Database
from facade.db.statements import insert_rows, json_param, json_rows

_HEAD = 1
_EVENTS = Table("audit_event", AuditRecord.metadata, extend_existing=True)
_ENTITIES = Table("audit_entity", AuditEntity.metadata, extend_existing=True)
_CHAIN = Table("audit_chain", AuditChain.metadata, extend_existing=True)
_VERIFY_CHUNK = 2000
_MAX_NAME = 100
# A held connection idle longer than this goes back to the pool, whose checkout pings first.
_HELD_IDLE_SECONDS = 1.0


def canonical(event: dict[str, Any]) -> bytes:
    """The event's canonical JSON: what is stored, hashed and served."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def link(previous: str, body: bytes) -> str:
    """The hash of a row whose predecessor's hash is ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + body).hexdigest()


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC without a zone: how every audit time is stored (SQLite keeps no zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def recorded_of(event: dict[str, Any]) -> datetime:
    """AuditEvent.recorded as a naive UTC datetime."""
    return utc(datetime.fromisoformat(str(event["recorded"]).replace("Z", "+00:00")))


def columns_of(event: dict[str, Any]) -> dict[str, Any]:
    """The searchable columns of an event, derived from its JSON only (verify re-derives them)."""
    agents = event.get("agent") or [{}]
    org = None
    for tag in (event.get("meta") or {}).get("tag") or []:
        org = tag.get("code")
    return {
        "id": event["id"],
        "recorded_at": recorded_of(event),
        "type_code": str((event.get("type") or {}).get("code", ""))[:16],
        "interaction": str(((event.get("subtype") or [{}])[0]).get("code", ""))[:64],
        "action": str(event.get("action", ""))[:1],
        "outcome": str(event.get("outcome", "")),
        "client_id": agents[0].get("altId"),
        "org_code": org,
    }


def entity_names(event: dict[str, Any]) -> list[str]:
    """``Type/id`` of every resource and patient the event names (its searchable entities)."""
    names: list[str] = []
    for entity in event.get("entity") or []:
        name = entity.get("name")
        if "what" in entity and isinstance(name, str) and len(name) <= _MAX_NAME:
            if name not in names:
                names.append(name)
    return names


@dataclass(frozen=True)
class Cursor:
    """Where a page of a search ended (keyset paging on recorded time, then chain position)."""

    recorded_at: datetime
    seq: int

    def token(self) -> str:
        """The cursor as it travels in a ``next`` link."""
        stamp = int(self.recorded_at.replace(tzinfo=UTC).timestamp() * 1_000_000)
        return f"{stamp}.{self.seq}"

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        """A cursor from its token (None when malformed)."""
        stamp, dot, seq = token.partition(".")
        if not dot or not stamp.isdigit() or not seq.isdigit():
            return None
        moment = datetime.fromtimestamp(int(stamp) / 1_000_000, UTC)
        return cls(utc(moment), int(seq))


@dataclass
class AuditQuery:
    """An auditor's search: every list is OR-ed within, every field AND-ed with the others."""

    after: list[datetime] = field(default_factory=list)  # recorded >= each
    before: list[datetime] = field(default_factory=list)  # recorded < each
    clients: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    subtypes: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    newest_first: bool = True
    count: int = 50
    cursor: Cursor | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of this search (without the cursor)."""
        table = AuditRecord
        out: list[ColumnElement[bool]] = [table.recorded_at >= utc(m) for m in self.after]
        out += [table.recorded_at < utc(m) for m in self.before]
        for column, values in (
            (table.client_id, self.clients),
            (table.type_code, self.types),
            (table.interaction, self.subtypes),
            (table.action, self.actions),
            (table.outcome, self.outcomes),
            (table.id, self.ids),
        ):
            if values:
                out.append(column.in_(values))
        if self.entities:
            named = select(AuditEntity.seq).where(AuditEntity.name.in_(self.entities))
            out.append(table.seq.in_(named.scalar_subquery()))
        return out


@dataclass(frozen=True)
class Page:
    """One page of found events: (id, canonical JSON) each, and where the next page starts."""

    events: list[tuple[str, bytes]]
    next: Cursor | None


@dataclass(frozen=True)
class Broken:
    """The first link of the chain that does not hold."""

    seq: int
    id: str | None
    reason: str


@dataclass(frozen=True)
class Verification:
    """What ``verify`` checked and found."""

    checked: int
    first_seq: int | None
    last_seq: int | None
    anchor_seq: int
    broken: Broken | None

    @property
    def ok(self) -> bool:
        """Whether every link held."""
        return self.broken is None


class AuditStore:
    """The audit store of one facade database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        # The head as this store last wrote it. On PostgreSQL an append that finds the
        # head still there is one statement with no lock taken first (see _append_after); a
        # stale head (another process wrote, a restore) only sends the append the locking way.
        self._head: tuple[int, str] | None = None
        self._autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._held = threading.local()  # .slot: the _Held of a thread inside holding()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Keep one connection for this thread's one-statement appends until the block ends.

        For the audit writer thread. A checkout from the pool pings the database first
        (``pool_pre_ping``): a round trip and about 0.2 ms of CPU per lone event, a third of
        the append (bench/README.md, reads, stop 28). A connection idle for longer than
        ``_HELD_IDLE_SECONDS``, or one a statement failed on, is given back, and the next
        append checks out a pinged one as before.
        """
        slot = _Held()
        self._held.slot = slot
        try:
            yield
        finally:
            self._held.slot = None
            slot.give_back()

    @contextlib.contextmanager
    def _autocommitted(self) -> Iterator[Connection]:
        """An autocommit connection: this thread's held one inside ``holding``, else the pool's."""
        slot: _Held | None = getattr(self._held, "slot", None)
        if slot is None:
            with self._autocommit.connect() as connection:
                yield connection
            return
        if slot.connection is not None and time.monotonic() - slot.used > _HELD_IDLE_SECONDS:
            slot.give_back()
        connection = slot.connection or self._autocommit.connect()
        slot.connection = None  # a failed statement leaves it given back
        try:
            yield connection
        except BaseException:
            connection.close()
            raise
        slot.connection, slot.used = connection, time.monotonic()

    # -- writing

    def append(self, events: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Link ``(door, event)`` pairs to the chain in this order, in one transaction; returns
        the new head seq."""
        if not events:
            return -1
        head = self._head
        if head is not None and self.database.engine.dialect.name == "postgresql":
            seq = self._append_after(head, events)
            if seq is not None:
                return seq
        for attempt in range(3):
            try:
                # Core on one connection: every request's event passes here, and the ORM
                # session's bookkeeping cost more than the statements themselves.
                with self.database.engine.begin() as connection:
                    head = self._append(connection, events)
                self._head = head
                return head[0]
            except IntegrityError:  # two first writers raced to create the head row
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(
        self, connection: Connection, events: Sequence[tuple[str, dict[str, Any]]]
    ) -> tuple[int, str]:
        # The first statement writes, so it takes the lock (PostgreSQL's row lock, SQLite's write
        # lock) and reads the head in the same round trip. Another writer waits here until this
        # batch is committed.
        found = connection.execute(
            update(_CHAIN)
            .where(_CHAIN.c.id == _HEAD)
            .values(seq=_CHAIN.c.seq)
            .returning(_CHAIN.c.seq, _CHAIN.c.hash)
        ).one_or_none()
        rows, entities, head = _linked((found[0], found[1]) if found else (0, GENESIS), events)
        connection.execute(insert(_EVENTS), rows)  # executemany: a few rows of long JSON
        insert_rows(connection, _ENTITIES, entities)  # many short rows
        if found is None:
            connection.execute(insert(_CHAIN).values(id=_HEAD, seq=head[0], hash=head[1]))
        else:
            connection.execute(
                update(_CHAIN).where(_CHAIN.c.id == _HEAD).values(seq=head[0], hash=head[1])
            )
        return head

    def _append_after(
        self, head: tuple[int, str], events: Sequence[tuple[str, dict[str, Any]]]
    ) -> int | None:
        """PostgreSQL: link ``events`` after ``head`` in one autocommitted statement that moves
        the head only if it is still ``head`` and inserts the rows only if it moved; None when
        another writer got there first (nothing is written then).

        A lone request's event otherwise costs a BEGIN, the lock, three writes and a COMMIT, a
        round trip each. A concurrent writer holding the row makes this statement wait, and
        PostgreSQL then re-checks the condition on the row it committed, so no two batches can
        both follow one head.
        """
        rows, entities, new = _linked(head, events)
        params: dict[str, Any] = {"old_seq": head[0], "old_hash": head[1]}
        params |= {"new_seq": new[0], "new_hash": new[1]}
        params["events"] = json_param(rows)
        params["entities"] = json_param(entities)
        with self._autocommitted() as connection:
            moved = connection.execute(_append_after_statement(tuple(rows[0])), params).scalar()
        if not moved:
            return None
        self._head = new
        return new[0]

    # -- reading

    def get(self, event_id: str) -> bytes | None:
        """One event's JSON by id."""
        with self.database.session() as session:
            body = session.scalar(select(AuditRecord.body).where(AuditRecord.id == event_id))
        return body.encode() if body is not None else None

    def search(self, query: AuditQuery) -> Page:
        """One page of events matching ``query``, ordered by recorded time (then chain position)."""
        table = AuditRecord
        order = (
            (table.recorded_at.desc(), table.seq.desc())
            if query.newest_first
            else (table.recorded_at.asc(), table.seq.asc())
        )
        statement = select(table.seq, table.recorded_at, table.id, table.body).where(
            *query.conditions()
        )
        if query.cursor is not None:
            at, seq = query.cursor.recorded_at, query.cursor.seq
            if query.newest_first:
                statement = statement.where(
                    or_(table.recorded_at < at, and_(table.recorded_at == at, table.seq < seq))
                )
            else:
                statement = statement.where(
                    or_(table.recorded_at > at, and_(table.recorded_at == at, table.seq > seq))
                )
        with self.database.session() as session:
            rows = session.execute(statement.order_by(*order).limit(query.count + 1)).all()
        more = len(rows) > query.count
        rows = rows[: query.count]
        cursor = Cursor(utc(rows[-1][1]), rows[-1][0]) if more and rows else None
        return Page([(row[2], row[3].encode()) for row in rows], cursor)

    def count(self, query: AuditQuery) -> int:
        """How many events match ``query``."""
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).where(*query.conditions())) or 0)

    def status(self) -> dict[str, Any]:
        """Events stored (the chain is gapless: head minus the last purge), head, last purge."""
        with self.database.session() as session:
            head = session.execute(select(AuditChain.seq, AuditChain.hash)).first()
            anchor = session.execute(
                select(AuditAnchor.seq, AuditAnchor.purged_at).order_by(AuditAnchor.seq.desc())
            ).first()
            newest = session.scalar(
                select(AuditRecord.recorded_at).order_by(AuditRecord.seq.desc()).limit(1)
            )
        head_seq = head[0] if head else 0
        purged = anchor[0] if anchor else 0
        return {
            "stored": head_seq - purged,
            "head_seq": head_seq,
            "head_hash": head[1] if head else GENESIS,
            "purged_through": purged,
            "last_purge": anchor[1].isoformat() if anchor else None,
            "newest": newest.replace(tzinfo=UTC).isoformat() if newest else None,
        }

    # -- integrity

    def verify(self) -> Verification:
        """Walk the chain from the newest anchor; report the first row whose link does not hold."""
        with self.database.session() as session:
            anchor = session.execute(
                select(AuditAnchor.seq, AuditAnchor.hash).order_by(AuditAnchor.seq.desc())
            ).first()
            head = session.execute(select(AuditChain.seq, AuditChain.hash)).first()
        expected_seq, previous = (anchor[0], anchor[1]) if anchor else (0, GENESIS)
        anchor_seq = expected_seq
        checked, first = 0, None
        for rows, names in self._chunks(anchor_seq):
            for row in rows:
                expected_seq += 1
                broken = _check(row, expected_seq, previous, names.get(row.seq, set()))
                if broken is not None:
                    return Verification(checked, first, row.seq, anchor_seq, broken)
                previous = row.hash
                first = row.seq if first is None else first
                checked += 1
        head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS)
        if (head_seq, head_hash) != (expected_seq, previous):
            broken = Broken(
                expected_seq + 1 if head_seq > expected_seq else expected_seq,
                None,
                f"the chain head says seq {head_seq} but the rows end at seq {expected_seq} "
                "(rows missing at the end, or the head was changed)",
            )
            return Verification(checked, first, expected_seq or None, anchor_seq, broken)
        return Verification(checked, first, expected_seq or None, anchor_seq, None)

    def _chunks(self, after: int) -> Iterator[tuple[list[Any], dict[int, set[str]]]]:
        while True:
            with self.database.session() as session:
                rows = list(
                    session.execute(
                        select(AuditRecord)
                        .where(AuditRecord.seq > after)
                        .order_by(AuditRecord.seq)
                        .limit(_VERIFY_CHUNK)
                    ).scalars()
                )
                if not rows:
                    return
                names: dict[int, set[str]] = {}
                for seq, name in session.execute(
                    select(AuditEntity.seq, AuditEntity.name).where(
                        AuditEntity.seq > after, AuditEntity.seq <= rows[-1].seq
                    )
                ):
                    names.setdefault(seq, set()).add(name)
            yield rows, names
            after = rows[-1].seq

    # -- retention

    def purge(self, cutoff: datetime) -> dict[str, Any]:
        """Delete the oldest events recorded before ``cutoff`` (a prefix of the chain: an old
        event stored after a newer one waits for the next purge), leaving an anchor."""
        cut = utc(cutoff)
        with self.database.session() as session:
            session.execute(
                update(AuditChain).where(AuditChain.id == _HEAD).values(seq=AuditChain.seq)
            )
            head = session.scalar(select(AuditChain.seq)) or 0
            done = session.scalar(select(func.max(AuditAnchor.seq))) or 0
            first_kept = session.scalar(
                select(func.min(AuditRecord.seq)).where(AuditRecord.recorded_at >= cut)
            )
            last = (first_kept - 1) if first_kept is not None else head
            if last <= done:
                return {"deleted": 0, "purged_through": done}
            last_hash = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == last))
            if last_hash is None:
                raise RuntimeError(f"audit row {last} is missing: run `vte-facade audit verify`")
            session.execute(delete(AuditEntity).where(AuditEntity.seq <= last))
            session.execute(delete(AuditRecord).where(AuditRecord.seq <= last))
            session.add(
                AuditAnchor(
                    seq=last,
                    hash=last_hash,
                    purged_at=utc(datetime.now(UTC)),
                    cutoff=cut,
                    deleted=last - done,
                )
            )
        return {"deleted": last - done, "purged_through": last}


def _check(row: AuditRecord, seq: int, previous: str, names: Iterable[str]) -> Broken | None:
    """Why ``row`` breaks the chain at position ``seq`` after ``previous`` (None: it holds)."""
    if row.seq != seq:
        return Broken(seq, None, f"row {seq} is missing (the next row is {row.seq})")
    try:
        event = orjson.loads(row.body)
    except orjson.JSONDecodeError:
        return Broken(seq, row.id, "the stored event is not JSON")
    if link(previous, canonical(event)) != row.hash:
        return Broken(seq, row.id, "hash mismatch: the event or its predecessor was changed")
    derived = columns_of(event)
    for name, value in derived.items():
        stored = getattr(row, name)
        if isinstance(stored, datetime):
            stored = utc(stored)
        if stored != value:
            return Broken(seq, row.id, f"column {name} does not match the stored event")
    if set(names) != set(entity_names(event)):
        return Broken(seq, row.id, "the entity index does not match the stored event")
    return None


def _linked(
    head: tuple[int, str], events: Sequence[tuple[str, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[int, str]]:
    """The rows of ``events`` linked after ``head`` (seq, hash), their entity rows, the new head."""
    seq, previous = head
    rows: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    for door, event in events:
        body = canonical(event)
        previous = link(previous, body)
        seq += 1
        rows.append(
            {**columns_of(event), "seq": seq, "door": door, "body": body.decode(), "hash": previous}
        )
        entities.extend({"seq": seq, "name": name} for name in entity_names(event))
    return rows, entities, (seq, previous)


class _Held:
    """The connection a thread holds between appends, and when it was last used."""

    def __init__(self) -> None:
        self.connection: Connection | None = None
        self.used = 0.0

    def give_back(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@functools.cache
def _append_after_statement(event_columns: tuple[str, ...]) -> Select[Any]:
    """``WITH head AS (UPDATE audit_chain … WHERE seq = :old_seq AND hash = :old_hash RETURNING),
    events AS (INSERT … FROM json_to_recordset(:events) WHERE EXISTS head), entities AS (INSERT …
    FROM json_to_recordset(:entities) WHERE EXISTS head) SELECT count(*) FROM head``: the rows go
    in only if the head moved (PostgreSQL only). Both kinds of rows travel as JSON (json_rows)."""
    head = (
        update(_CHAIN)
        .where(
            _CHAIN.c.id == _HEAD,
            _CHAIN.c.seq == bindparam("old_seq"),
            _CHAIN.c.hash == bindparam("old_hash"),
        )
        .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
        .returning(_CHAIN.c.seq)
        .cte("head")
    )
    moved = select(head.c.seq).exists()
    writes = [
        insert(_EVENTS)
        .from_select(list(event_columns), json_rows(_EVENTS, event_columns, "events").where(moved))
        .cte("events"),
        insert(_ENTITIES)
        .from_select(
            ["seq", "name"], json_rows(_ENTITIES, ("seq", "name"), "entities").where(moved)
        )
        .cte("entities"),
    ]
    return select(func.count()).select_from(head).add_cte(*writes)
