"""Tables of the forwarder: ids adopted from conditional-update days, and sampled-validation alarms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class ForwardLegacyId(Base):
    """A resource HAPI stored under a server-assigned id before ids were derived from identity.

    Written once by the legacy-id scan (facade/forward/ids.py, not built yet); the forwarder then writes that resource
    (and points references at it) under this id instead of the derived one, so no identity is
    ever stored twice. ``match_hash`` is SHA-256 of the resource's conditional URL.
    """

    __tablename__ = "forward_legacy_id"

    match_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_ref: Mapped[str] = mapped_column(String(255))  # "Type/id"


class ForwardValidationAlarm(Base):
    """A stored resource that failed HAPI's $validate when the sampler checked it."""

    __tablename__ = "forward_validation_alarm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(40), index=True)
    resource_ref: Mapped[str] = mapped_column(String(255))
    # The validator's first error, location and rule; quoted values removed (they may be data).
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
