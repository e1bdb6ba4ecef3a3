"""Tables of the mapping engine: facts of records other records link to (sealed at rest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class MappingFact(Base):
    """A few field values of one prepared record that other records need after its payload is gone.

    An assessment is checked against its case's stay (admission, discharge) and linked to the
    case's Patient (local patient id). Rows are keyed by the digest of the prepared payload, the
    same digest its receipt carries, so only the facts of the live version of a record are used.
    """

    __tablename__ = "mapping_fact"
    __table_args__ = (UniqueConstraint("org_code", "record_type", "record_id", "payload_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(18))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    payload_digest: Mapped[str] = mapped_column(String(64))
    facts_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
