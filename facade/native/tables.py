"""Tables of the native interface: institutions, apps and keys, nonces, rate buckets, batches, receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow

# A receipt leaves the uniqueness rule once it failed, so the hospital can send that version again.
LIVE_RECEIPT = text("status <> 'failed'")


class NativeOrg(Base):
    """A reporting institution admitted to the platform (secondary hospital or above with a VTE system)."""

    __tablename__ = "native_org"
    __table_args__ = (CheckConstraint("status IN ('active', 'disabled')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(2))  # hospital-grade code, e.g. "31" 三级甲等
    status: Mapped[str] = mapped_column(String(16), default="active")
    fhir_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class NativeApp(Base):
    """One hospital system (HIS, EMR, VTE module) allowed to call the gateway for its institution."""

    __tablename__ = "native_app"
    __table_args__ = (CheckConstraint("status IN ('active', 'revoked')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("native_org.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Comma-separated; kept as text so the same migration runs on SQLite and PostgreSQL.
    sign_types: Mapped[str] = mapped_column(String(64))
    enc_types: Mapped[str] = mapped_column(String(64))
    ip_allowlist: Mapped[str] = mapped_column(Text, default="")  # "" = any source address
    services: Mapped[str] = mapped_column(Text, default="")  # "" = every service
    # signType=SM2: the app's public key, uncompressed 04‖x‖y in hex (not a secret).
    sm2_public_key: Mapped[str | None] = mapped_column(String(130), nullable=True)
    # Mutual TLS (code 1012): SHA-256 fingerprints of the client certificates the app may present,
    # comma-separated hex; "" = no client certificate required.
    client_cert_sha256: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NativeAppKey(Base):
    """One version of an app's secret, sealed with a key derived from the master key (never in clear)."""

    __tablename__ = "native_app_key"
    __table_args__ = (
        UniqueConstraint("app_pk", "key_version"),
        CheckConstraint("status IN ('active', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_pk: Mapped[int] = mapped_column(ForeignKey("native_app.id"), index=True)
    key_version: Mapped[int] = mapped_column(Integer)
    # Wiped (NULL) when the version is retired: nothing left to leak (剩余信息保护).
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NativeNonce(Base):
    """A nonce seen from an app; the primary key makes "insert if absent" atomic for every worker."""

    __tablename__ = "native_nonce"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class NativeRateBucket(Base):
    """Token bucket of one app, shared by every worker (epoch milliseconds avoid time-zone arithmetic)."""

    __tablename__ = "native_rate_bucket"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class IntakeBatch(Base):
    """A processed upload batch and the exact reply payload it got, for idempotent retries."""

    __tablename__ = "intake_batch"
    __table_args__ = (UniqueConstraint("app_id", "batch_no"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(18))
    service_code: Mapped[str] = mapped_column(String(64))
    batch_no: Mapped[str] = mapped_column(String(64))
    payload_digest: Mapped[str] = mapped_column(String(64))  # SM3 of the plaintext bizContent
    reply_biz: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    fail_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IntakeRecord(Base):
    """The receipt of one accepted record: accepted → stored, or failed with a reason.

    ``payload_sealed`` holds the prepared (already pseudonymised) record, encrypted; it is wiped
    once the record is stored upstream. ``lease_token``/``lease_until_ms`` let several forwarder
    workers claim records without locking primitives that differ between SQLite and PostgreSQL.
    """

    __tablename__ = "intake_record"
    __table_args__ = (
        CheckConstraint("status IN ('accepted', 'stored', 'failed')", name="status"),
        Index(
            "uq_intake_record_live_version",
            "org_code",
            "service_code",
            "record_id",
            "record_version",
            unique=True,
            sqlite_where=LIVE_RECEIPT,
            postgresql_where=LIVE_RECEIPT,
        ),
        Index("ix_intake_record_status_seq", "status", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("intake_batch.id"), index=True)
    record_index: Mapped[int] = mapped_column(Integer)
    app_id: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(18))
    service_code: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    record_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    payload_digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    lease_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    result_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    stored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def live_receipts(
    org_code: str, service_code: str, record_ids: Sequence[str] | None = None
) -> list[ColumnElement[bool]]:
    """WHERE terms for the receipts of these records (None: of any record, for ``select_in``)
    that did not fail: for each record, the one with the highest version is its live receipt."""
    terms = [
        IntakeRecord.org_code == org_code,
        IntakeRecord.service_code == service_code,
        IntakeRecord.status != "failed",
    ]
    if record_ids is not None:
        terms.append(IntakeRecord.record_id.in_(record_ids))
    return terms
