"""Keeps the data-quality counters at intake, inside the transaction that stores the receipts.

``QualityRecorder.observe`` is called by ``IntakeStore`` (the gateway and the Excel import alike)
with every record of a batch that was accepted or refused. Per record it updates the record's
state (a re-sent duplicate changes nothing; a correction replaces the previous version's part;
a refusal after an acceptance is kept beside it until a later version is accepted), then
re-evaluates every record whose contribution may have changed — the members of the touched
stays, duplicate groups and patients — and adds only the differences to ``dq_count`` and
``dq_finding``. The states are evaluated before anything is written, so each changed
``dq_record`` row is written once (new rows in one INSERT, stored ones in one UPDATE by id).
Nothing is counted twice and nothing is lost: it all commits or rolls back with the batch.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from facade.db.statements import dialect_insert, select_in
from facade.db.tables import utcnow
from facade.native.intake import Observed
from facade.native.processor import IntakeContext
from facade.native.sealing import SecretBox
from facade.native.tables import NativeOrg
from facade.quality import tokens
from facade.quality.evaluate import Context, RecordState, accept, refuse
from facade.quality.rules import RuleSet, rule_set
from facade.quality.tables import DqCount, DqFinding, DqRecord
from facade.settings import Settings

FACTS_PURPOSE = "quality/record-facts/v1"
CHUNK = 400  # values per IN (...) list
# Core, not ORM entities: the rows are decoded into RecordState and written back once.
_TABLE = cast(Table, DqRecord.__table__)
# What a batch may change in a row (``updated_at`` set by the writer: Core skips the ORM default).
_STATE_COLUMNS = (
    "stay_key",
    "patient_key",
    "dup_key",
    "version",
    "accepted_ms",
    "refused_ms",
    "own",
    "refusal",
    "facts_sealed",
    "applied",
    "updated_at",
)
_LOADED = [_TABLE.c[name] for name in ("id", "record_type", "record_key", *_STATE_COLUMNS[:-1])]
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in _STATE_COLUMNS})
)
# A row only re-evaluated keeps its other columns: its sealed facts above all, which a key
# rotation may be re-sealing at this moment (facade/keys/rotation.py).
_UPDATE_APPLIED = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(applied=bindparam("applied"), updated_at=bindparam("updated_at"))
)
# Above any id a row can have (64-bit at most): rows of this batch sort after every stored one.
_PROVISIONAL = 1 << 63


class QualityRecorder:
    """Turns intake outcomes into counter changes (one instance per app; stateless between calls)."""

    def __init__(self, rules: RuleSet, box: SecretBox) -> None:
        self.rules = rules
        self.box = box

    @classmethod
    def for_settings(cls, settings: Settings) -> QualityRecorder:
        """The recorder of an app: its rules, facts sealed under a key derived from the master key."""
        return cls(rule_set(settings), SecretBox.for_purpose(settings, FACTS_PURPOSE))

    def observe(
        self,
        session: Session,
        context: IntakeContext,
        outcomes: Sequence[Observed],
        received_ms: int | None = None,
    ) -> None:
        """Update the counters for one stored batch, in the caller's transaction."""
        rt = self.rules.dictionary.by_service_code(context.service_code)
        changed = [o for o in outcomes if o.status in ("SUCCESS", "FAILED")]
        if rt is None or not changed:
            return
        now = received_ms if received_ms is not None else int(time.time() * 1000)
        org = context.org_code
        _lock_org(session, org)
        work = _Workspace(self, session, org)
        keyed = {_key(o, context.batch_no): o for o in changed}
        work.load(_TABLE.c.record_type == rt.record_type, _TABLE.c.record_key, list(keyed))
        for key, outcome in keyed.items():
            row = work.row(rt.record_type, key)
            if outcome.status == "SUCCESS":
                self._accepted(work, row, outcome, now)
            else:
                self._refused(work, row, outcome, now)
        work.settle()

    def _accepted(self, work: _Workspace, row: _Row, outcome: Observed, now: int) -> None:
        state = row.state
        work.touch(state)
        rt = self.rules.dictionary.record_types[state.record_type]
        done = accept(self.rules, rt, work.org, outcome.payload, outcome.version, now, state.facts)
        state.version = outcome.version
        state.accepted_ms = state.accepted_ms or now
        state.own, state.facts = done.own, done.facts
        state.stay_key, state.patient_key, state.dup_key = (
            done.stay_key,
            done.patient_key,
            done.dup_key,
        )
        state.refusal, state.refused_ms = [], None
        work.touch(state)

    def _refused(self, work: _Workspace, row: _Row, outcome: Observed, now: int) -> None:
        state = row.state
        found = refuse(self.rules, state.record_type, outcome.issues)
        if found == state.refusal:
            return  # the same refusal again: counted once
        state.refusal, state.refused_ms = found, now
        work.touch(state)


def _key(outcome: Observed, batch_no: str) -> str:
    return outcome.record_id or f"#{batch_no}:{outcome.index}"


def _lock_org(session: Session, org_code: str) -> None:
    """Serialise counter updates of one institution (PostgreSQL row lock; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(NativeOrg.id).where(NativeOrg.org_code == org_code).with_for_update()
        )


@dataclass
class _Row:
    """A loaded (or new) ``dq_record`` row and its decoded state."""

    state: RecordState
    applied: list[tuple[str, str]]
    stored: bool  # False: added by this batch, not yet written


class _Workspace:
    """The rows of one institution a batch reads and changes, and the counter differences."""

    def __init__(self, recorder: QualityRecorder, session: Session, org: str) -> None:
        self.recorder = recorder
        self.session = session
        self.org = org
        self.rows: dict[tuple[str, str], _Row] = {}
        self.added: list[_Row] = []  # new rows in the order they were met: their ids follow it
        self.dirty_rows: set[tuple[str, str]] = set()
        self.reapplied: set[tuple[str, str]] = set()  # rows whose ``applied`` changed
        self.stay_type = recorder.rules.config.stay.record_type
        self.stays: set[str] = set()  # stays whose case changed: every record re-evaluated
        self.siblings: dict[str, set[str]] = {}  # stay -> record types of changed children
        self.dups: set[str] = set()
        self.patients: set[str] = set()

    # -- loading

    def load(self, condition: Any, column: Any, values: list[str]) -> list[_Row]:
        """Rows of this institution where ``column`` is one of ``values`` (and ``condition``)."""
        query = select(*_LOADED).where(_TABLE.c.org_code == self.org)
        if condition is not None:
            query = query.where(condition)
        return [
            self._adopt(stored) for stored in select_in(self.session, query, column, values, CHUNK)
        ]

    def _adopt(self, stored: Any) -> _Row:
        slot = (stored.record_type, stored.record_key)
        known = self.rows.get(slot)
        if known is not None:
            return known
        facts: dict[str, Any] = {}
        if stored.facts_sealed:
            facts = orjson.loads(self.recorder.box.open(stored.facts_sealed, self._aad(*slot)))
        state = RecordState(
            id=stored.id,
            record_type=stored.record_type,
            key=stored.record_key,
            stay_key=stored.stay_key,
            patient_key=stored.patient_key,
            dup_key=stored.dup_key,
            version=stored.version,
            accepted_ms=stored.accepted_ms,
            refused_ms=stored.refused_ms,
            own=orjson.loads(stored.own),
            refusal=orjson.loads(stored.refusal),
            facts=facts,
        )
        applied = [tuple(pair) for pair in orjson.loads(stored.applied)]
        row = _Row(state, applied, stored=True)
        self.rows[slot] = row
        return row

    def _aad(self, record_type: str, key: str) -> str:
        return f"{self.org}|{record_type}|{key}"

    def row(self, record_type: str, key: str) -> _Row:
        """The row of a record, created (empty) when the record is new."""
        slot = (record_type, key)
        if slot not in self.rows:
            # Ids of new rows are given in insertion order, after every stored row: until they
            # are written, a provisional id in that order breaks ties between duplicates alike.
            state = RecordState(id=_PROVISIONAL + len(self.added), record_type=record_type, key=key)
            row = _Row(state, [], stored=False)
            self.added.append(row)
            self.rows[slot] = row
        return self.rows[slot]

    def touch(self, state: RecordState) -> None:
        """The record changed (or is about to): its groups need re-evaluation."""
        self.dirty_rows.add((state.record_type, state.key))
        if state.stay_key and state.record_type == self.stay_type:
            self.stays.add(state.stay_key)
        elif state.stay_key:
            self.siblings.setdefault(state.stay_key, set()).add(state.record_type)
        if state.dup_key:
            self.dups.add(state.dup_key)
        if state.patient_key:
            self.patients.add(state.patient_key)

    # -- re-evaluation

    def settle(self) -> None:
        """Re-evaluate affected records, then write their states once and the counter differences.

        The look-ups see the stored (old) keys of the rows this batch changed; those rows are
        loaded already and evaluated with their new state, and their old groups were touched.
        """
        rules, stay_type = self.recorder.rules, self.stay_type
        stays = self.stays | set(self.siblings)
        loaded = self._members(stays, self.dups, self.patients, stay_type)
        members = set(self.dirty_rows)
        for slot in loaded:
            state = self.rows[slot].state
            if state.stay_key in self.stays or state.dup_key in self.dups:
                members.add(slot)
            elif state.patient_key in self.patients and slot[0] == stay_type:
                members.add(slot)
            elif state.record_type in _dependents(rules, self.siblings.get(state.stay_key or "")):
                members.add(slot)  # reads its siblings (prophylaxis after the first assessment)
        # Rows re-evaluated need their own groups too, even those no change touched.
        more_stays = {self.rows[s].state.stay_key for s in members} - {None} - stays
        more_dups = {self.rows[s].state.dup_key for s in members} - {None} - self.dups
        more_patients = (
            {self.rows[s].state.patient_key for s in members if s[0] == stay_type}
            - {None}
            - self.patients
        )
        self._members(more_stays, more_dups, more_patients, stay_type)  # type: ignore[arg-type]
        context = Context(self.recorder.rules, (r.state for r in self.rows.values()))
        counts: Counter[tuple[str, str]] = Counter()
        added: set[tuple[str, str, str, str]] = set()
        removed: set[tuple[str, str, str, str]] = set()
        for slot in sorted(members):
            row = self.rows[slot]
            new = context.contribution(row.state)
            if new == row.applied:
                continue
            old_set, new_set = set(row.applied), set(new)
            for pair in old_set - new_set:
                counts[pair] -= 1
                if tokens.is_problem(pair[1]):
                    removed.add((pair[1], pair[0], *slot))
            for pair in new_set - old_set:
                counts[pair] += 1
                if tokens.is_problem(pair[1]):
                    added.add((pair[1], pair[0], *slot))
            row.applied = new
            self.reapplied.add(slot)
        self._write_states()
        self._write_counts(counts)
        self._write_findings(added - removed, removed - added)

    def _members(
        self, stays: Iterable[str], dups: Iterable[str], patients: Iterable[str], stay_type: str
    ) -> set[tuple[str, str]]:
        columns = _TABLE.c
        found: list[_Row] = []
        found += self.load(None, columns.stay_key, list(stays))
        found += self.load(None, columns.dup_key, list(dups))
        found += self.load(columns.record_type == stay_type, columns.patient_key, list(patients))
        return {(r.state.record_type, r.state.key) for r in found}

    def _write_states(self) -> None:
        """New rows in one INSERT, in the order of their provisional ids (so their ids keep it),
        and changed stored rows in one UPDATE by id: each row written once, ``applied`` final."""
        now = utcnow()  # Core statements skip the ORM's ``updated_at`` default and onupdate
        if self.added:
            # executemany runs the rows in list order, so the ids follow it; here it costs less
            # CPU than insert_rows' unnest, whose bytea and timestamp arrays psycopg dumps slowly.
            self.session.execute(
                insert(_TABLE),
                [
                    {
                        "org_code": self.org,
                        "record_type": row.state.record_type,
                        "record_key": row.state.key,
                        **self._values(row, now),
                    }
                    for row in self.added
                ],
            )
        touched = (self.rows[slot] for slot in self.dirty_rows | self.reapplied)
        stored = sorted((row for row in touched if row.stored), key=lambda row: row.state.id)
        changed = [
            {"row_id": row.state.id, **self._values(row, now)}
            for row in stored
            if (row.state.record_type, row.state.key) in self.dirty_rows
        ]
        if changed:
            self.session.execute(_UPDATE, changed)
        reapplied = [
            {
                "row_id": row.state.id,
                "applied": orjson.dumps(row.applied).decode(),
                "updated_at": now,
            }
            for row in stored
            if (row.state.record_type, row.state.key) not in self.dirty_rows
        ]
        if reapplied:
            self.session.execute(_UPDATE_APPLIED, reapplied)

    def _values(self, row: _Row, now: datetime) -> dict[str, Any]:
        """The state columns of a new or changed row, its facts sealed anew."""
        state = row.state
        aad = self._aad(state.record_type, state.key)
        sealed = self.recorder.box.seal(orjson.dumps(state.facts), aad) if state.facts else None
        return {
            "stay_key": state.stay_key,
            "patient_key": state.patient_key,
            "dup_key": state.dup_key,
            "version": state.version,
            "accepted_ms": state.accepted_ms,
            "refused_ms": state.refused_ms,
            "own": orjson.dumps(state.own).decode(),
            "refusal": orjson.dumps(state.refusal).decode(),
            "facts_sealed": sealed,
            "applied": orjson.dumps(row.applied).decode(),
            "updated_at": now,
        }

    def _write_counts(self, counts: Counter[tuple[str, str]]) -> None:
        rows = [
            {"org_code": self.org, "bucket": bucket, "token": token, "value": value}
            for (bucket, token), value in sorted(counts.items())
            if value
        ]
        if not rows:
            return
        # One statement with the rows as parameters: compiled once and cached, where a
        # multi-row VALUES list is compiled again for every batch.
        statement = dialect_insert(self.session, DqCount)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["org_code", "bucket", "token"],
                set_={"value": DqCount.value + statement.excluded.value},
            ),
            rows,
        )

    def _write_findings(
        self, added: set[tuple[str, str, str, str]], removed: set[tuple[str, str, str, str]]
    ) -> None:
        columns = (
            DqFinding.token,
            DqFinding.bucket,
            DqFinding.record_type,
            DqFinding.record_key,
        )
        for part in _chunks(sorted(removed), CHUNK):
            self.session.execute(
                delete(DqFinding).where(DqFinding.org_code == self.org, tuple_(*columns).in_(part))
            )
        if added:
            self.session.execute(
                insert(DqFinding),
                [
                    {
                        "org_code": self.org,
                        "token": t,
                        "bucket": b,
                        "record_type": rt,
                        "record_key": key,
                    }
                    for t, b, rt, key in sorted(added)
                ],
            )


def _dependents(rules: RuleSet, changed: set[str] | None) -> frozenset[str]:
    if not changed:
        return frozenset()
    found: frozenset[str] = frozenset()
    for record_type in changed:
        found |= rules.dependents(record_type)
    return found


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
