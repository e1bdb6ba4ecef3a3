"""Facts of linked records: whether a referenced record is live, and the values other records need.

A record is *live* when it has a receipt that did not fail (accepted or stored); its highest such
version counts. Facts are written when a record is prepared and read back through the digest of
its live receipt, so a version the gateway refused never leaks its values into a later check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, select

from facade.db import Database
from facade.mapping.tables import MappingFact
from facade.native.intake import sm3_hex
from facade.native.sealing import SecretBox
from facade.native.tables import IntakeRecord
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


Linked = tuple[LiveRecord | None, dict[str, Any] | None]
# Look-ups already made in this pass (a batch at the gateway, a round in the forwarder): records of
# one hospital point at the same few cases and patients, and nothing a pass reads changes during it.
_PASS: ContextVar[dict[tuple[str, str, str, str], Linked] | None] = ContextVar(
    "facts_pass", default=None
)


class FactStore:
    """Reads live receipts and reads/writes facts of one facade database."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box

    @contextmanager
    def one_pass(self) -> Iterator[None]:
        """Within the block, each linked record is looked up once (per thread or task)."""
        token = _PASS.set({})
        try:
            yield
        finally:
            _PASS.reset(token)

    def linked(self, org_code: str, service_code: str, record_type: str, record_id: str) -> Linked:
        """The live receipt of a record and the facts of that version (None, None: never sent),
        in one query."""
        memo = _PASS.get()
        key = (org_code, service_code, record_type, record_id)
        if memo is not None and key in memo:
            return memo[key]
        fact = MappingFact
        with self.database.session() as session:
            row = session.execute(
                select(
                    IntakeRecord.record_version,
                    IntakeRecord.payload_digest,
                    IntakeRecord.status,
                    fact.facts_sealed,
                )
                .outerjoin(
                    fact,
                    and_(
                        fact.org_code == IntakeRecord.org_code,
                        fact.record_type == record_type,
                        fact.record_id == IntakeRecord.record_id,
                        fact.payload_digest == IntakeRecord.payload_digest,
                    ),
                )
                .where(*_live_receipt(org_code, service_code, record_id))
                .order_by(IntakeRecord.record_version.desc())
                .limit(1)
            ).first()
        found: Linked = (None, None)
        if row is not None:
            live = LiveRecord(int(row[0]), str(row[1]), str(row[2]))
            found = (live, self._open(row[3], org_code, record_type, record_id, live.digest))
        if memo is not None:
            memo[key] = found
        return found

    @classmethod
    def for_settings(cls, settings: Settings, database: Database) -> FactStore:
        """A store sealing facts under a key derived from the master key."""
        return cls(database, SecretBox.for_purpose(settings, FACTS_PURPOSE))

    def live(self, org_code: str, service_code: str, record_id: str) -> LiveRecord | None:
        """The newest receipt of the record that did not fail, if any."""
        with self.database.session() as session:
            row = session.execute(
                select(
                    IntakeRecord.record_version, IntakeRecord.payload_digest, IntakeRecord.status
                )
                .where(*_live_receipt(org_code, service_code, record_id))
                .order_by(IntakeRecord.record_version.desc())
                .limit(1)
            ).first()
        return LiveRecord(int(row[0]), str(row[1]), str(row[2])) if row else None

    def remember(
        self, org_code: str, record_type: str, record_id: str, digest: str, facts: Mapping[str, Any]
    ) -> None:
        """Keep ``facts`` of a prepared record (once per digest)."""
        aad = _aad(org_code, record_type, record_id, digest)
        with self.database.session() as session:
            exists = session.scalar(
                select(MappingFact.id).where(
                    MappingFact.org_code == org_code,
                    MappingFact.record_type == record_type,
                    MappingFact.record_id == record_id,
                    MappingFact.payload_digest == digest,
                )
            )
            if exists is None:
                session.add(
                    MappingFact(
                        org_code=org_code,
                        record_type=record_type,
                        record_id=record_id,
                        payload_digest=digest,
                        facts_sealed=self.box.seal(orjson.dumps(dict(facts)), aad),
                    )
                )

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


def _live_receipt(org_code: str, service_code: str, record_id: str) -> list[ColumnElement[bool]]:
    """Receipts of the record that did not fail (the newest of them is the live one)."""
    return [
        IntakeRecord.org_code == org_code,
        IntakeRecord.service_code == service_code,
        IntakeRecord.record_id == record_id,
        IntakeRecord.status != "failed",
    ]


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
