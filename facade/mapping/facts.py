"""Facts of linked records: whether a referenced record is live, and the values other records need.

A record is *live* when it has a receipt that did not fail (accepted or stored); its highest such
version counts. Facts are written when a record is prepared and read back through the digest of
its live receipt, so a version the gateway refused never leaks its values into a later check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from facade.db import Database
from facade.db.statements import in_lists, insert_new, select_in
from facade.db.tables import utcnow
from facade.mapping.tables import MappingFact
from facade.native.intake import sm3_hex
from facade.native.sealing import SecretBox
from facade.native.tables import IntakeRecord, live_receipts
from facade.settings import Settings

FACTS_PURPOSE = "mapping/link-facts/v1"


def payload_digest(payload: Mapping[str, Any]) -> str:
    """The digest the gateway stores for a prepared payload (SM3 of its sorted-key JSON)."""
    return sm3_hex(orjson.dumps(dict(payload), option=orjson.OPT_SORT_KEYS))


@dataclass(frozen=True)
class LiveRecord:
    """The live receipt of a record: its version and payload digest."""

    version: int
    digest: str
    status: str
    stored_at: datetime | None = None  # when it reached the FHIR server (UTC), if it did


Linked = tuple[LiveRecord | None, dict[str, Any] | None]
FactKey = tuple[str, str, str, str]  # org, record type, record id, payload digest


@dataclass
class _Pass:
    """Look-ups already made in this pass (a batch at the gateway, a round in the forwarder):
    records of one hospital point at the same few cases and patients, and nothing a pass reads
    changes during it. Facts remembered meanwhile are written once, when the pass ends: they are
    read only through a live receipt, and the batch's receipts are committed after that."""

    looked_up: dict[tuple[str, str, str, str], Linked]
    remembered: dict[FactKey, Mapping[str, Any]]


_PASS: ContextVar[_Pass | None] = ContextVar("facts_pass", default=None)


class FactStore:
    """Reads live receipts and reads/writes facts of one facade database."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box

    @contextmanager
    def one_pass(self) -> Iterator[None]:
        """Within the block, each linked record is looked up once (per thread or task), and the
        facts remembered are written together when it ends without an error."""
        state = _Pass({}, {})
        token = _PASS.set(state)
        try:
            yield
        finally:
            _PASS.reset(token)
        self._write(state.remembered)

    def linked(self, org_code: str, service_code: str, record_type: str, record_id: str) -> Linked:
        """The live receipt of a record and the facts of that version (None, None: never sent),
        in one query."""
        current = _PASS.get()
        key = (org_code, service_code, record_type, record_id)
        if current is not None and key in current.looked_up:
            return current.looked_up[key]
        found = self._look_up(org_code, service_code, record_type, [record_id])[record_id]
        if current is not None:
            current.looked_up[key] = found
        return found

    def prefetch(
        self, org_code: str, service_code: str, record_type: str, record_ids: Iterable[str]
    ) -> None:
        """Inside ``one_pass``: look these records up together now (a batch's links), so that
        ``linked`` finds them without a query each. Outside a pass it does nothing."""
        current = _PASS.get()
        if current is None:
            return
        wanted = (
            i
            for i in record_ids
            if (org_code, service_code, record_type, i) not in current.looked_up
        )
        for chunk in in_lists(wanted):
            found = self._look_up(org_code, service_code, record_type, chunk)
            for record_id, linked in found.items():
                current.looked_up[(org_code, service_code, record_type, record_id)] = linked

    def _look_up(
        self, org_code: str, service_code: str, record_type: str, record_ids: list[str]
    ) -> dict[str, Linked]:
        """``linked`` of each record id, in one query, never memoised."""
        fact = MappingFact
        # The facts of the receipt's version, as a subquery: one probe of their unique index
        # per receipt, where a join could be planned as a scan while the table has no statistics.
        facts = (
            select(fact.facts_sealed)
            .where(
                fact.org_code == IntakeRecord.org_code,
                fact.record_type == record_type,
                fact.record_id == IntakeRecord.record_id,
                fact.payload_digest == IntakeRecord.payload_digest,
            )
            .scalar_subquery()
        )
        receipts = select(
            IntakeRecord.record_id,
            IntakeRecord.record_version,
            IntakeRecord.payload_digest,
            IntakeRecord.status,
            IntakeRecord.stored_at,
            facts.label("facts_sealed"),
        ).where(*live_receipts(org_code, service_code))
        newest: dict[str, Any] = {}
        with self.database.session() as session:
            for row in select_in(session, receipts, IntakeRecord.record_id, record_ids):
                known = newest.get(row[0])
                if known is None or row[1] > known[1]:
                    newest[row[0]] = row
        found: dict[str, Linked] = {}
        for record_id in record_ids:
            best = newest.get(record_id)
            if best is None:
                found[record_id] = (None, None)
                continue
            live = LiveRecord(int(best[1]), str(best[2]), str(best[3]), _aware(best[4]))
            found[record_id] = (
                live,
                self._open(best[5], org_code, record_type, record_id, live.digest),
            )
        return found

    @classmethod
    def for_settings(cls, settings: Settings, database: Database) -> FactStore:
        """A store sealing facts under a key derived from the master key."""
        return cls(database, SecretBox.for_purpose(settings, FACTS_PURPOSE))

    def live(
        self, org_code: str, service_code: str, record_type: str, record_id: str
    ) -> LiveRecord | None:
        """The newest receipt of the record that did not fail, if any, read now (never from a
        pass's memo: the forwarder asks after a refusal, when it may have just changed)."""
        return self._look_up(org_code, service_code, record_type, [record_id])[record_id][0]

    def remember(
        self, org_code: str, record_type: str, record_id: str, digest: str, facts: Mapping[str, Any]
    ) -> None:
        """Keep ``facts`` of a prepared record (once per digest); inside ``one_pass`` they are
        written when the pass ends."""
        key = (org_code, record_type, record_id, digest)
        current = _PASS.get()
        if current is not None:
            current.remembered[key] = facts
        else:
            self._write({key: facts})

    def _write(self, remembered: Mapping[FactKey, Mapping[str, Any]]) -> None:
        """Insert the facts in one statement (those already stored, by anyone, are kept)."""
        rows = [
            {
                "org_code": key[0],
                "record_type": key[1],
                "record_id": key[2],
                "payload_digest": key[3],
                "facts_sealed": self.box.seal(orjson.dumps(dict(facts)), _aad(*key)),
                "created_at": utcnow(),
            }
            for key, facts in remembered.items()
        ]
        if rows:
            with self.database.session() as session:
                insert_new(session, MappingFact, rows)

    def read(
        self, org_code: str, record_type: str, record_id: str, digest: str
    ) -> dict[str, Any] | None:
        """The facts stored for this version of the record, if any."""
        with self.database.session() as session:
            blob = session.scalar(
                select(MappingFact.facts_sealed).where(
                    MappingFact.org_code == org_code,
                    MappingFact.record_type == record_type,
                    MappingFact.record_id == record_id,
                    MappingFact.payload_digest == digest,
                )
            )
        return self._open(blob, org_code, record_type, record_id, digest)

    def _open(
        self, blob: bytes | None, org_code: str, record_type: str, record_id: str, digest: str
    ) -> dict[str, Any] | None:
        if blob is None:
            return None
        facts: dict[str, Any] = orjson.loads(
            self.box.open(blob, _aad(org_code, record_type, record_id, digest))
        )
        return facts


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timezone-aware columns back naive; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _aad(org_code: str, record_type: str, record_id: str, digest: str) -> str:
    return f"{org_code}|{record_type}|{record_id}|{digest}"


class OrgLinks:
    """``LinkFacts`` of one institution for the engine: facts of the live version of a record."""

    def __init__(self, store: FactStore, org_code: str, services: Mapping[str, str]) -> None:
        self.store = store
        self.org_code = org_code
        self.services = services  # record type -> service code

    def facts(self, record_type: str, key: str) -> Mapping[str, Any] | None:
        """Facts of the live record of ``record_type`` keyed ``key`` (None if unknown)."""
        service = self.services.get(record_type)
        if service is None:
            return None
        return self.store.linked(self.org_code, service, record_type, key)[1]
