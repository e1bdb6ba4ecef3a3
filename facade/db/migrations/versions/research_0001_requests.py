"""Research data sharing: requests, transitions, extraction jobs, loaded OMOP vocabulary.

Revision ID: research_0001
Revises: 0001_baseline
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "research_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("research",)
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "research_request",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("researcher", sa.String(64), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("ethics_approval", sa.String(100), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("cohort", sa.Text(), nullable=False),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("granted_period", sa.String(16), nullable=True),
        sa.Column("granted_cohort", sa.Text(), nullable=True),
        sa.Column("granted_variables", sa.Text(), nullable=True),
        _stamp("expires_at", nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_request")),
    )
    op.create_index(op.f("ix_research_request_researcher"), "research_request", ["researcher"])
    op.create_index(op.f("ix_research_request_state"), "research_request", ["state"])
    op.create_table(
        "research_transition",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _stamp("at"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["research_request.id"],
            name=op.f("fk_research_transition_request_id_research_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_transition")),
    )
    op.create_index(
        op.f("ix_research_transition_request_id"), "research_transition", ["request_id"]
    )
    op.create_table(
        "research_extract",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _stamp("lease_until", nullable=True),
        sa.Column("directory", sa.Text(), nullable=True),
        sa.Column("manifest", sa.Text(), nullable=True),
        _stamp("created_at"),
        _stamp("started_at", nullable=True),
        _stamp("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["research_request.id"],
            name=op.f("fk_research_extract_request_id_research_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_extract")),
    )
    op.create_index(op.f("ix_research_extract_request_id"), "research_extract", ["request_id"])
    op.create_index(op.f("ix_research_extract_state"), "research_extract", ["state"])
    op.create_table(
        "omop_concept",
        sa.Column("concept_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("concept_name", sa.String(255), nullable=False),
        sa.Column("domain_id", sa.String(20), nullable=False),
        sa.Column("vocabulary_id", sa.String(20), nullable=False),
        sa.Column("concept_class_id", sa.String(20), nullable=False),
        sa.Column("standard_concept", sa.String(1), nullable=True),
        sa.Column("concept_code", sa.String(50), nullable=False),
        sa.Column("invalid_reason", sa.String(1), nullable=True),
        sa.PrimaryKeyConstraint("concept_id", name=op.f("pk_omop_concept")),
    )
    op.create_index("ix_omop_concept_code", "omop_concept", ["vocabulary_id", "concept_code"])
    op.create_table(
        "omop_concept_map",
        sa.Column("source_concept_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("target_concept_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint(
            "source_concept_id", "target_concept_id", name=op.f("pk_omop_concept_map")
        ),
    )
    op.create_table(
        "omop_vocabulary_load",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _stamp("loaded_at"),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("release", sa.String(100), nullable=True),
        sa.Column("concepts", sa.Integer(), nullable=False),
        sa.Column("mappings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omop_vocabulary_load")),
    )


def downgrade() -> None:
    op.drop_table("omop_vocabulary_load")
    op.drop_table("omop_concept_map")
    op.drop_index("ix_omop_concept_code", table_name="omop_concept")
    op.drop_table("omop_concept")
    op.drop_index(op.f("ix_research_extract_state"), table_name="research_extract")
    op.drop_index(op.f("ix_research_extract_request_id"), table_name="research_extract")
    op.drop_table("research_extract")
    op.drop_index(op.f("ix_research_transition_request_id"), table_name="research_transition")
    op.drop_table("research_transition")
    op.drop_index(op.f("ix_research_request_state"), table_name="research_request")
    op.drop_index(op.f("ix_research_request_researcher"), table_name="research_request")
    op.drop_table("research_request")
