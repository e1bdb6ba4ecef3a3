"""Keeps the data-quality counters at intake, inside the transaction that stores the receipts.

``QualityRecorder.observe`` is called by ``IntakeStore`` (the gateway and the Excel import alike)
with every record of a batch that was accepted or refused. Per record it updates the record's
state (a re-sent duplicate changes nothing; a correction replaces the previous version's part;
a refusal after an acceptance is kept beside it until a later version is accepted), then
re-evaluates every record whose contribution may have changed — the members of the touched
stays, duplicate groups and patients — and adds only the differences to ``dq_count`` and
``dq_finding``. Nothing is counted twice and nothing is lost: it all commits or rolls back with
the batch.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from facade.db.statements import dialect_insert, in_lists
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
        work.load(DqRecord.record_type == rt.record_type, DqRecord.record_key, list(keyed))
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

    orm: DqRecord
    state: RecordState
    applied: list[tuple[str, str]]


class _Workspace:
    """The rows of one institution a batch reads and changes, and the counter differences."""

    def __init__(self, recorder: QualityRecorder, session: Session, org: str) -> None:
        self.recorder = recorder
        self.session = session
        self.org = org
        self.rows: dict[tuple[str, str], _Row] = {}
        self.dirty_rows: set[tuple[str, str]] = set()
        self.stay_type = recorder.rules.config.stay.record_type
        self.stays: set[str] = set()  # stays whose case changed: every record re-evaluated
        self.siblings: dict[str, set[str]] = {}  # stay -> record types of changed children
        self.dups: set[str] = set()
        self.patients: set[str] = set()

    # -- loading

    def load(self, condition: Any, column: Any, values: list[str]) -> list[_Row]:
        """Rows of this institution where ``column`` is one of ``values`` (and ``condition``)."""
        found: list[_Row] = []
        for chunk in in_lists(values, CHUNK):
            query = select(DqRecord).where(DqRecord.org_code == self.org, column.in_(chunk))
            if condition is not None:
                query = query.where(condition)
            for orm in self.session.scalars(query):
                found.append(self._adopt(orm))
        return found

    def _adopt(self, orm: DqRecord) -> _Row:
        slot = (orm.record_type, orm.record_key)
        known = self.rows.get(slot)
        if known is not None:
            return known
        facts: dict[str, Any] = {}
        if orm.facts_sealed:
            facts = orjson.loads(self.recorder.box.open(orm.facts_sealed, self._aad(orm)))
        state = RecordState(
            id=orm.id,
            record_type=orm.record_type,
            key=orm.record_key,
            stay_key=orm.stay_key,
            patient_key=orm.patient_key,
            dup_key=orm.dup_key,
            version=orm.version,
            accepted_ms=orm.accepted_ms,
            refused_ms=orm.refused_ms,
            own=orjson.loads(orm.own),
            refusal=orjson.loads(orm.refusal),
            facts=facts,
        )
        row = _Row(orm, state, [tuple(pair) for pair in orjson.loads(orm.applied)])
        self.rows[slot] = row
        return row

    def _aad(self, orm: DqRecord) -> str:
        return f"{orm.org_code}|{orm.record_type}|{orm.record_key}"

    def row(self, record_type: str, key: str) -> _Row:
        """The row of a record, created (empty) when the record is new."""
        slot = (record_type, key)
        if slot not in self.rows:
            orm = DqRecord(
                org_code=self.org,
                record_type=record_type,
                record_key=key,
                own="[]",
                refusal="[]",
                applied="[]",
            )
            self.session.add(orm)
            self.rows[slot] = _Row(orm, RecordState(id=0, record_type=record_type, key=key), [])
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
        """Write changed states, re-evaluate affected records and apply the counter differences."""
        self._write_states()
        self.session.flush()  # new rows get their ids (duplicates are ordered by them)
        for row in self.rows.values():
            row.state.id = row.orm.id
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
            row.orm.applied = orjson.dumps(new).decode()
        self._write_counts(counts)
        self._write_findings(added - removed, removed - added)

    def _members(
        self, stays: Iterable[str], dups: Iterable[str], patients: Iterable[str], stay_type: str
    ) -> set[tuple[str, str]]:
        found: list[_Row] = []
        found += self.load(None, DqRecord.stay_key, list(stays))
        found += self.load(None, DqRecord.dup_key, list(dups))
        found += self.load(DqRecord.record_type == stay_type, DqRecord.patient_key, list(patients))
        return {(r.state.record_type, r.state.key) for r in found}

    def _write_states(self) -> None:
        box = self.recorder.box
        for slot in self.dirty_rows:
            row = self.rows[slot]
            state, orm = row.state, row.orm
            orm.stay_key, orm.patient_key, orm.dup_key = (
                state.stay_key,
                state.patient_key,
                state.dup_key,
            )
            orm.version, orm.accepted_ms, orm.refused_ms = (
                state.version,
                state.accepted_ms,
                state.refused_ms,
            )
            orm.own = orjson.dumps(state.own).decode()
            orm.refusal = orjson.dumps(state.refusal).decode()
            orm.facts_sealed = (
                box.seal(orjson.dumps(state.facts), self._aad(orm)) if state.facts else None
            )

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
