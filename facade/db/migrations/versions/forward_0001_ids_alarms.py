"""Forwarder: adopted legacy ids, sampled-validation alarms, and the id scheme of this installation.

A database that already holds stored receipts or registered institutions has resources in HAPI
under server-assigned ids (conditional updates); it keeps writing that way (``conditional``)
until those ids are recorded in ``forward_legacy_id`` (the ``forward adopt-ids`` step, not built
yet; see facade/forward/ids.py). A new database starts ``derived``.

Revision ID: forward_0001
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "forward_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("forward",)
depends_on: str | Sequence[str] | None = "native_0001"


def upgrade() -> None:
    op.create_table(
        "forward_legacy_id",
        sa.Column("match_hash", sa.String(64), nullable=False),
        sa.Column("resource_ref", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("match_hash", name=op.f("pk_forward_legacy_id")),
    )
    op.create_table(
        "forward_validation_alarm",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.String(40), nullable=False),
        sa.Column("resource_ref", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_validation_alarm")),
    )
    op.create_index(
        op.f("ix_forward_validation_alarm_receipt_id"), "forward_validation_alarm", ["receipt_id"]
    )
    bind = op.get_bind()
    written = bind.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM intake_record WHERE status = 'stored')"
            " OR EXISTS (SELECT 1 FROM native_org)"
        )
    ).scalar()
    bind.execute(
        sa.text("INSERT INTO instance_fact (key, value, updated_at) VALUES (:k, :v, :t)"),
        {
            "k": "forward.id_scheme",
            "v": "conditional" if written else "derived",
            "t": datetime.now(UTC),
        },
    )


def downgrade() -> None:
    op.execute("DELETE FROM instance_fact WHERE key = 'forward.id_scheme'")
    op.drop_index(op.f("ix_forward_validation_alarm_receipt_id"), "forward_validation_alarm")
    op.drop_table("forward_validation_alarm")
    op.drop_table("forward_legacy_id")
