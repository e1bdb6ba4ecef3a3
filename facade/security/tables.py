"""Tables of the security concern: registered system clients and the assertion ids they used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class ApiClient(Base):
    """A system registered for SMART Backend Services: its role, organisation, scopes and JWKS."""

    __tablename__ = "api_client"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    org_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    # Space-separated SMART scopes: the most any token of this client may carry.
    scopes: Mapped[str] = mapped_column(Text)
    # The client's public JWKS as JSON text.
    jwks: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UsedAssertion(Base):
    """One client assertion ``jti`` already accepted, kept until the assertion expires (replay guard).

    The table is shared by every worker, so a replay is caught whichever worker sees it; the
    primary key makes the check-and-insert atomic.
    """

    __tablename__ = "used_assertion"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # SHA-256 of the jti: bounded length whatever the client sends.
    jti_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
