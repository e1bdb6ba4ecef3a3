"""The audit outbox: one row per request, written in the request, forwarded to HAPI later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class AuditRecord(Base):
    """One AuditEvent: stored here first (durable), then PUT into HAPI under the same id.

    The row is the source of truth until it is forwarded; forwarding is idempotent (PUT by id),
    so a retry after a crash or a race between two workers never duplicates an event.
    """

    __tablename__ = "audit_record"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    door: Mapped[str] = mapped_column(String(16))  # fhir | auth | native
    interaction: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    org_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    outcome: Mapped[str] = mapped_column(String(2))  # AuditEvent.outcome: 0, 4, 8, 12
    body: Mapped[str] = mapped_column(Text)  # the AuditEvent JSON, exactly as it will be stored
    forwarded_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    # A worker claims a slice of rows until this time, so two workers rarely send the same row.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
