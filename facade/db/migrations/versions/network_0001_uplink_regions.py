"""The multi-level network: linkage pseudonyms, uplink outbox/pushes/benchmarks, child regions.

Revision ID: network_0001
Revises: 0001_baseline
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "network_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("network",)
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "linkage_pseudonym",
        sa.Column("regional", sa.String(64), nullable=False),
        sa.Column("key_check", sa.String(16), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("regional", "key_check", name=op.f("pk_linkage_pseudonym")),
    )
    op.create_table(
        "uplink_outbox",
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        _stamp("queued_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _stamp("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_uplink_outbox")),
    )
    op.create_table(
        "uplink_push",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        _stamp("started_at"),
        _stamp("finished_at", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("sent", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uplink_push")),
    )
    op.create_index(op.f("ix_uplink_push_period"), "uplink_push", ["period"])
    op.create_table(
        "uplink_benchmark",
        sa.Column("period", sa.String(16), nullable=False),
        _stamp("fetched_at"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_uplink_benchmark")),
    )
    op.create_table(
        "network_region",
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_network_region")),
    )
    op.create_index(op.f("ix_network_region_client_id"), "network_region", ["client_id"])
    op.create_table(
        "network_submission",
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _stamp("received_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("region", "period", "kind", name=op.f("pk_network_submission")),
    )


def downgrade() -> None:
    op.drop_table("network_submission")
    op.drop_index(op.f("ix_network_region_client_id"), table_name="network_region")
    op.drop_table("network_region")
    op.drop_table("uplink_benchmark")
    op.drop_index(op.f("ix_uplink_push_period"), table_name="uplink_push")
    op.drop_table("uplink_push")
    op.drop_table("uplink_outbox")
    op.drop_table("linkage_pseudonym")
