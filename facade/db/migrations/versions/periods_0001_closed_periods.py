"""Reporting periods closed by QC (records in them are locked: VTE-X code 3008).

Revision ID: periods_0001
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "periods_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("periods",)
depends_on: str | Sequence[str] | None = None

IN_FORCE = sa.text("status = 'closed'")


def upgrade() -> None:
    op.create_table(
        "closed_period",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(18), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.String(100), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reopened_by", sa.String(100), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('closed', 'reopened')", name=op.f("ck_closed_period_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_period")),
    )
    op.create_index(
        "uq_closed_period_in_force",
        "closed_period",
        ["label", "scope"],
        unique=True,
        sqlite_where=IN_FORCE,
        postgresql_where=IN_FORCE,
    )


def downgrade() -> None:
    op.drop_index("uq_closed_period_in_force", table_name="closed_period")
    op.drop_table("closed_period")
