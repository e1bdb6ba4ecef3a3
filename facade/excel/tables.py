"""Table of the Excel fallback: one row per imported file (and app), with its summary and sealed error workbook."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class ExcelImport(Base):
    """An imported workbook: who sent it, its SM3 digest, the summary, and the error workbook until it expires.

    The uploaded file itself is never kept. The error workbook echoes rejected rows (identity
    numbers masked), so it is sealed like stored records and wiped once ``expires_at`` passes.
    """

    __tablename__ = "excel_import"
    __table_args__ = (UniqueConstraint("app_id", "file_digest"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    source: Mapped[str] = mapped_column(String(16))  # api | cli
    file_digest: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    fail_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    error_workbook_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
