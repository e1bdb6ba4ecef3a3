"""Native apps: SM2 public key (signType=SM2) and pinned client-certificate fingerprints (mTLS).

Revision ID: native_0002_app_sm2_mtls
Revises: native_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "native_0002_app_sm2_mtls"
down_revision: str | Sequence[str] | None = "native_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("native_app") as batch:
        batch.add_column(sa.Column("sm2_public_key", sa.String(130), nullable=True))
        batch.add_column(
            sa.Column("client_cert_sha256", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("native_app") as batch:
        batch.drop_column("client_cert_sha256")
        batch.drop_column("sm2_public_key")
