"""Table of closed reporting periods (kept after reopening, as the record of who did what)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow

# At most one closure of a period per scope is in force; reopened rows stay as history.
IN_FORCE = text("status = 'closed'")


class ClosedPeriod(Base):
    """A period QC closed, region-wide (``org_code`` NULL) or for one institution."""

    __tablename__ = "closed_period"
    __table_args__ = (
        CheckConstraint("status IN ('closed', 'reopened')", name="status"),
        Index(
            "uq_closed_period_in_force",
            "label",
            "scope",
            unique=True,
            sqlite_where=IN_FORCE,
            postgresql_where=IN_FORCE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(16))  # 2026-Q1, 2026-03, 2026-H1, 2026
    # "*" for the whole region, else the institution's orgCode (a plain column keeps the
    # uniqueness rule simple on both databases).
    scope: Mapped[str] = mapped_column(String(18))
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="closed")
    reason: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reopened_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
