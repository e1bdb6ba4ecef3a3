"""Tables of the network: a child's pseudonym map, outbox and pushes; a parent's regions and receipts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow

# -- child side


class LinkagePseudonym(Base):
    """The province pseudonym of a person this platform knows by its regional pseudonym.

    Both are keyed hashes of the same identity number, written at intake (the only moment the
    number is known); ``key_check`` names the linkage key, so a rotation can hold two values.
    """

    __tablename__ = "linkage_pseudonym"

    regional: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_check: Mapped[str] = mapped_column(String(16), primary_key=True)
    person: Mapped[str] = mapped_column(String(64))


class UplinkOutbox(Base):
    """A period waiting to be pushed to the parent (one row per period; a new request reuses it)."""

    __tablename__ = "uplink_outbox"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | refused
    reason: Mapped[str] = mapped_column(String(32))  # schedule | publish | manual | linkage
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UplinkPush(Base):
    """One push of a period to the parent: what was sent, when, and what the parent answered."""

    __tablename__ = "uplink_push"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # accepted | unchanged | refused | unreachable | failed
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent: Mapped[str] = mapped_column(Text, default="{}")  # JSON: counts of what went up
    answer: Mapped[str] = mapped_column(Text, default="")  # the parent's answer (JSON or message)


class UplinkBenchmark(Base):
    """The parent's benchmarks of a period as last fetched (shown beside this platform's values)."""

    __tablename__ = "uplink_benchmark"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    body: Mapped[str] = mapped_column(Text)


# -- parent side


class NetworkRegion(Base):
    """A child region registered at this (parent) facade, bound to the client that reports for it."""

    __tablename__ = "network_region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NetworkSubmission(Base):
    """The latest submission of a child region for a period: its reports, or its linkage data.

    ``digest`` makes a re-sent submission a no-op; ``body`` holds the linkage data (province
    pseudonyms already re-keyed) or a summary of the reports (which themselves live in HAPI).
    """

    __tablename__ = "network_submission"

    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # reports | linkage
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
