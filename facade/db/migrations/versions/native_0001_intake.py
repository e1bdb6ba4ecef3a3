"""Native interface: institutions, apps and keys, nonces, rate buckets, intake batches and receipts.

Revision ID: native_0001
Revises: 0001_baseline
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "native_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("native",)
depends_on: str | Sequence[str] | None = None

LIVE_RECEIPT = sa.text("status <> 'failed'")


def _stamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "native_org",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("grade", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fhir_id", sa.String(64), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_native_org_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_native_org")),
        sa.UniqueConstraint("org_code", name=op.f("uq_native_org_org_code")),
    )
    op.create_table(
        "native_app",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sign_types", sa.String(64), nullable=False),
        sa.Column("enc_types", sa.String(64), nullable=False),
        sa.Column("ip_allowlist", sa.Text(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        _stamp("revoked_at", nullable=True),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_native_app_status")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["native_org.id"], name=op.f("fk_native_app_org_id_native_org")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_native_app")),
        sa.UniqueConstraint("app_id", name=op.f("uq_native_app_app_id")),
    )
    op.create_index(op.f("ix_native_app_org_id"), "native_app", ["org_id"])
    op.create_table(
        "native_app_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("app_pk", sa.Integer(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _stamp("created_at"),
        _stamp("retired_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'retired')", name=op.f("ck_native_app_key_status")
        ),
        sa.ForeignKeyConstraint(
            ["app_pk"], ["native_app.id"], name=op.f("fk_native_app_key_app_pk_native_app")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_native_app_key")),
        sa.UniqueConstraint("app_pk", "key_version", name=op.f("uq_native_app_key_app_pk")),
    )
    op.create_index(op.f("ix_native_app_key_app_pk"), "native_app_key", ["app_pk"])
    op.create_table(
        "native_nonce",
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "nonce", name=op.f("pk_native_nonce")),
    )
    op.create_index(op.f("ix_native_nonce_expires_ms"), "native_nonce", ["expires_ms"])
    op.create_table(
        "native_rate_bucket",
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_native_rate_bucket")),
    )
    op.create_table(
        "intake_batch",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("batch_no", sa.String(64), nullable=False),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("reply_biz", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("fail_count", sa.Integer(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_batch")),
        sa.UniqueConstraint("app_id", "batch_no", name=op.f("uq_intake_batch_app_id")),
    )
    op.create_table(
        "intake_record",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.String(40), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("record_index", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("result_ref", sa.String(255), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        _stamp("stored_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('accepted', 'stored', 'failed')", name=op.f("ck_intake_record_status")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["intake_batch.id"], name=op.f("fk_intake_record_batch_id_intake_batch")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_intake_record")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_intake_record_receipt_id")),
    )
    op.create_index(op.f("ix_intake_record_batch_id"), "intake_record", ["batch_id"])
    op.create_index(op.f("ix_intake_record_lease_token"), "intake_record", ["lease_token"])
    op.create_index("ix_intake_record_status_seq", "intake_record", ["status", "seq"])
    op.create_index(
        "uq_intake_record_live_version",
        "intake_record",
        ["org_code", "service_code", "record_id", "record_version"],
        unique=True,
        sqlite_where=LIVE_RECEIPT,
        postgresql_where=LIVE_RECEIPT,
    )


def downgrade() -> None:
    op.drop_table("intake_record")
    op.drop_table("intake_batch")
    op.drop_table("native_rate_bucket")
    op.drop_table("native_nonce")
    op.drop_table("native_app_key")
    op.drop_table("native_app")
    op.drop_table("native_org")
