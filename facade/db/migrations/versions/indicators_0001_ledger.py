"""Incremental indicator refresh: the per-stay ledger (indicator_ledger, indicator_ledger_stay).

Revision ID: indicators_0001
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "indicators_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("indicators",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_ledger",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("indicators", sa.String(400), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_indicator_ledger")),
    )
    op.create_table(
        "indicator_ledger_stay",
        sa.Column("ledger", sa.String(80), nullable=False),
        sa.Column("encounter", sa.String(100), nullable=False),
        sa.Column("patient", sa.String(100), nullable=True),
        sa.Column("org", sa.String(32), nullable=False),
        sa.Column("dept", sa.String(32), nullable=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("members", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger"],
            ["indicator_ledger.key"],
            name=op.f("fk_indicator_ledger_stay_ledger_indicator_ledger"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ledger", "encounter", name=op.f("pk_indicator_ledger_stay")),
    )
    op.create_index(
        "ix_indicator_ledger_stay_patient", "indicator_ledger_stay", ["ledger", "patient"]
    )


def downgrade() -> None:
    op.drop_index("ix_indicator_ledger_stay_patient", table_name="indicator_ledger_stay")
    op.drop_table("indicator_ledger_stay")
    op.drop_table("indicator_ledger")
