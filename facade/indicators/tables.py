"""Tables of the incremental indicator refresh: one ledger per period and region, one row per stay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class IndicatorLedger(Base):
    """What the ledger of one period and region was computed from, and up to when.

    ``watermark`` is HAPI's own clock (a search Bundle's ``meta.lastUpdated``) read just before
    the pass that last brought the rows up to date, minus a safety margin: every write HAPI
    stamped later is read again by the next refresh. ``fingerprint`` digests the indicator
    definitions; rows computed under other definitions are never reused.
    """

    __tablename__ = "indicator_ledger"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # <period>|<region key>
    period: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Indicator ids in the order of the membership digits of every row.
    indicators: Mapped[str] = mapped_column(String(400))
    watermark: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stays: Mapped[int] = mapped_column(Integer, default=0)
    seeded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerStay(Base):
    """One stay discharged in the ledger's period and the populations it belongs to.

    ``members`` holds one hex digit per indicator (in the ledger's order): bit n set when the stay
    is in the indicator's n-th population (initial population, denominator, ...).
    """

    __tablename__ = "indicator_ledger_stay"
    __table_args__ = (Index("ix_indicator_ledger_stay_patient", "ledger", "patient"),)

    ledger: Mapped[str] = mapped_column(
        String(80), ForeignKey("indicator_ledger.key", ondelete="CASCADE"), primary_key=True
    )
    encounter: Mapped[str] = mapped_column(String(100), primary_key=True)  # Encounter/<id>
    patient: Mapped[str | None] = mapped_column(String(100), nullable=True)  # Patient/<id>
    org: Mapped[str] = mapped_column(String(32))
    dept: Mapped[str | None] = mapped_column(String(32), nullable=True)
    month: Mapped[str] = mapped_column(String(7))
    members: Mapped[str] = mapped_column(String(64))
