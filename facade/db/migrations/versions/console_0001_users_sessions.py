"""Web console: people who sign in, and their sessions.

Revision ID: console_0001
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "console_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("org_code", sa.String(18), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        _stamp("locked_until", nullable=True),
        _stamp("last_login_at", nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        _stamp("disabled_at", nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'qc', 'hospital', 'auditor')", name=op.f("ck_console_user_role")
        ),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_console_user_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("username", name=op.f("uq_console_user_username")),
    )
    op.create_table(
        "console_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        _stamp("created_at"),
        _stamp("last_seen_at"),
        _stamp("expires_at"),
        _stamp("ended_at", nullable=True),
        sa.CheckConstraint(
            "stage IN ('second-factor', 'password-change', 'active')",
            name=op.f("ck_console_session_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_user.id"],
            name=op.f("fk_console_session_user_id_console_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
    )
    op.create_index(
        op.f("ix_console_session_user_id"), "console_session", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_console_session_expires_at"), "console_session", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_session_expires_at"), table_name="console_session")
    op.drop_index(op.f("ix_console_session_user_id"), table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
