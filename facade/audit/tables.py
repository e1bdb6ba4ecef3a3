"""The audit store: an append-only, hash-chained table of AuditEvents in the facade's database.

One chain for the whole installation, however many facade processes write to it: a writer takes
the lock on the single ``audit_chain`` row for the length of one batch insert, so batches of
different processes interleave whole and every row's position (``seq``) is unique and gapless.
Each row carries ``hash = SHA-256(previous row's hash + the event's canonical JSON)``; a purge
deletes a prefix of the chain and leaves an ``audit_anchor`` with the hash of the last row it
deleted, from which ``vte-facade audit verify`` resumes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base

# SQLite makes an INTEGER primary key the rowid (no second index); PostgreSQL needs 64 bits.
SEQ = BigInteger().with_variant(Integer(), "sqlite")
GENESIS = "0" * 64  # the "previous hash" of the first event ever stored


class AuditRecord(Base):
    """One AuditEvent, never updated: its JSON (canonical), the columns auditors search by, its link."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    door: Mapped[str] = mapped_column(String(16))  # fhir | auth | native | console
    type_code: Mapped[str] = mapped_column(String(16))  # AuditEvent.type.code
    interaction: Mapped[str] = mapped_column(String(64), index=True)  # AuditEvent.subtype code
    action: Mapped[str] = mapped_column(String(1))
    outcome: Mapped[str] = mapped_column(String(2))  # AuditEvent.outcome: 0, 4, 8, 12
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    body: Mapped[str] = mapped_column(Text)  # canonical JSON (sorted keys), as hashed and served
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_event_client_recorded", "client_id", "recorded_at"),)


class AuditEntity(Base):
    """A resource or patient an event names (``Type/id``): what "who touched X?" searches use."""

    __tablename__ = "audit_entity"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_audit_entity_name_seq", "name", "seq"),)


class AuditChain(Base):
    """The head of the chain (one row, id 1): the last ``seq`` and its hash; writers lock it."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """What a purge removed: rows up to ``seq`` (inclusive), the last of which had ``hash``."""

    __tablename__ = "audit_anchor"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[int] = mapped_column(Integer)
