"""Data quality: per-record state, counters and findings kept at intake (dq_record, dq_count, dq_finding).

Revision ID: quality_0001
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "quality_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("quality",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dq_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(80), nullable=False),
        sa.Column("stay_key", sa.String(64), nullable=True),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("dup_key", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("accepted_ms", sa.BigInteger(), nullable=True),
        sa.Column("refused_ms", sa.BigInteger(), nullable=True),
        sa.Column("own", sa.Text(), nullable=False),
        sa.Column("refusal", sa.Text(), nullable=False),
        sa.Column("facts_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("applied", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dq_record")),
        sa.UniqueConstraint(
            "org_code", "record_type", "record_key", name=op.f("uq_dq_record_org_code")
        ),
    )
    op.create_index("ix_dq_record_stay", "dq_record", ["org_code", "stay_key"])
    op.create_index("ix_dq_record_dup", "dq_record", ["org_code", "dup_key"])
    op.create_index("ix_dq_record_patient", "dq_record", ["org_code", "patient_key"])
    op.create_table(
        "dq_count",
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("bucket", sa.String(10), nullable=False),
        sa.Column("token", sa.String(120), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_code", "bucket", "token", name=op.f("pk_dq_count")),
    )
    op.create_table(
        "dq_finding",
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("token", sa.String(120), nullable=False),
        sa.Column("bucket", sa.String(10), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_code", "token", "bucket", "record_type", "record_key", name=op.f("pk_dq_finding")
        ),
    )


def downgrade() -> None:
    op.drop_table("dq_finding")
    op.drop_table("dq_count")
    op.drop_index("ix_dq_record_patient", table_name="dq_record")
    op.drop_index("ix_dq_record_dup", table_name="dq_record")
    op.drop_index("ix_dq_record_stay", table_name="dq_record")
    op.drop_table("dq_record")
