"""Security and audit: registered system clients, used assertion ids, the audit outbox.

Revision ID: security_0001
Revises: 0001_baseline
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "security_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("security",)
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_client",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("org_code", sa.String(18), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _stamp("created_at"),
        _stamp("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_client")),
    )
    op.create_table(
        "used_assertion",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("jti_digest", sa.String(64), nullable=False),
        _stamp("expires_at"),
        sa.PrimaryKeyConstraint("client_id", "jti_digest", name=op.f("pk_used_assertion")),
    )
    op.create_index(op.f("ix_used_assertion_expires_at"), "used_assertion", ["expires_at"])
    op.create_table(
        "audit_record",
        sa.Column("id", sa.String(64), nullable=False),
        _stamp("recorded_at"),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("interaction", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("org_code", sa.String(18), nullable=True),
        sa.Column("outcome", sa.String(2), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _stamp("forwarded_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _stamp("next_attempt_at"),
        _stamp("lease_until", nullable=True),
        sa.Column("lease_owner", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    op.create_index(op.f("ix_audit_record_recorded_at"), "audit_record", ["recorded_at"])
    op.create_index(op.f("ix_audit_record_client_id"), "audit_record", ["client_id"])
    op.create_index(op.f("ix_audit_record_forwarded_at"), "audit_record", ["forwarded_at"])
    op.create_index(op.f("ix_audit_record_next_attempt_at"), "audit_record", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("audit_record")
    op.drop_table("used_assertion")
    op.drop_table("api_client")
