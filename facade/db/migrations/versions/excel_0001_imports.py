"""Excel fallback: the log of imported workbooks with their sealed error workbooks.

Revision ID: excel_0001
Revises: 0001_baseline
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "excel_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("excel",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "excel_import",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("org_code", sa.String(18), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("file_digest", sa.String(64), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("fail_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error_workbook_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excel_import")),
        sa.UniqueConstraint("app_id", "file_digest", name=op.f("uq_excel_import_app_id")),
    )
    op.create_index(op.f("ix_excel_import_org_code"), "excel_import", ["org_code"])
    op.create_index(op.f("ix_excel_import_expires_at"), "excel_import", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_excel_import_expires_at"), table_name="excel_import")
    op.drop_index(op.f("ix_excel_import_org_code"), table_name="excel_import")
    op.drop_table("excel_import")
