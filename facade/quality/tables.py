"""Tables of the data-quality counters: one state row per record, counters per bucket, findings.

``dq_record`` holds what each record (institution, record type, record key) currently
contributes: its accepted part (own tokens, sealed facts such as its times) and, when its latest
submission was refused, the refusal's tokens; ``applied`` is the contribution last added to the
counters, so a correction or a re-evaluation changes the counters by the difference only.
``dq_count`` are the counters a report reads; ``dq_finding`` lists the records (ids only) behind
each problem counter.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class DqRecord(Base):
    """The data-quality state of one record key of one institution."""

    __tablename__ = "dq_record"
    __table_args__ = (
        UniqueConstraint("org_code", "record_type", "record_key"),
        Index("ix_dq_record_stay", "org_code", "stay_key"),
        Index("ix_dq_record_dup", "org_code", "dup_key"),
        Index("ix_dq_record_patient", "org_code", "patient_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(18))
    record_type: Mapped[str] = mapped_column(String(40))
    # recordId, or "#<batchNo>:<index>" for a refused record without a usable recordId
    record_key: Mapped[str] = mapped_column(String(80))
    stay_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    patient_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SM3, not the id
    dup_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SM3 of the natural key
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # accepted version
    accepted_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # first acceptance
    refused_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    own: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of tokens
    refusal: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of tokens
    facts_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    applied: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of [bucket, token]
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class DqCount(Base):
    """One counter: how many records of an institution carry ``token`` in ``bucket``."""

    __tablename__ = "dq_count"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM or YYYY-MM-DD
    token: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class DqFinding(Base):
    """A record behind a problem counter (record type and key only: no personal data)."""

    __tablename__ = "dq_finding"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    token: Mapped[str] = mapped_column(String(120), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(10), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(80), primary_key=True)
