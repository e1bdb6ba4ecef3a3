"""The audit store: append-only, hash-chained AuditEvents (replaces the outbox forwarded to HAPI).

Every row of the old ``audit_record`` outbox, forwarded or not, becomes a link of the new chain in
the order it was recorded; the outbox is then dropped.

Revision ID: security_0002
Revises: security_0001
Create Date: 2026-12-12
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "security_0002"
down_revision: str | Sequence[str] | None = "security_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _naive_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _row(
    seq: int, previous: str, door: str, event: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    # The same derivation as facade.audit.store (a migration must not import the code it predates).
    body = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    agents = event.get("agent") or [{}]
    org = None
    for tag in (event.get("meta") or {}).get("tag") or []:
        org = tag.get("code")
    names: list[str] = []
    for entity in event.get("entity") or []:
        name = entity.get("name")
        if "what" in entity and isinstance(name, str) and len(name) <= 100 and name not in names:
            names.append(name)
    return {
        "seq": seq,
        "id": event["id"],
        "recorded_at": _naive_utc(str(event["recorded"])),
        "door": door,
        "type_code": str((event.get("type") or {}).get("code", ""))[:16],
        "interaction": str(((event.get("subtype") or [{}])[0]).get("code", ""))[:64],
        "action": str(event.get("action", ""))[:1],
        "outcome": str(event.get("outcome", "")),
        "client_id": agents[0].get("altId"),
        "org_code": org,
        "body": body.decode(),
        "hash": hashlib.sha256(previous.encode("ascii") + body).hexdigest(),
    }, names


def upgrade() -> None:
    events = op.create_table(
        "audit_event",
        sa.Column("seq", SEQ, nullable=False, autoincrement=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("type_code", sa.String(16), nullable=False),
        sa.Column("interaction", sa.String(64), nullable=False),
        sa.Column("action", sa.String(1), nullable=False),
        sa.Column("outcome", sa.String(2), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("org_code", sa.String(18), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_event_id")),
    )
    op.create_index(op.f("ix_audit_event_recorded_at"), "audit_event", ["recorded_at"])
    op.create_index(op.f("ix_audit_event_interaction"), "audit_event", ["interaction"])
    op.create_index("ix_audit_event_client_recorded", "audit_event", ["client_id", "recorded_at"])
    entities = op.create_table(
        "audit_entity",
        sa.Column("seq", SEQ, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("seq", "name", name=op.f("pk_audit_entity")),
    )
    op.create_index("ix_audit_entity_name_seq", "audit_entity", ["name", "seq"])
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.create_table(
        "audit_anchor",
        sa.Column("seq", SEQ, nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_anchor")),
    )
    connection = op.get_bind()
    old = connection.execute(
        sa.text("SELECT door, body FROM audit_record ORDER BY recorded_at, id")
    )
    seq, previous = 0, GENESIS
    batch: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    for door, body in old:
        seq += 1
        row, entity_names = _row(seq, previous, str(door), orjson.loads(str(body)))
        previous = row["hash"]
        batch.append(row)
        names.extend({"seq": seq, "name": n} for n in entity_names)
        if len(batch) >= 1000:
            op.bulk_insert(events, batch)
            if names:
                op.bulk_insert(entities, names)
            batch, names = [], []
    if batch:
        op.bulk_insert(events, batch)
    if names:
        op.bulk_insert(entities, names)
    op.bulk_insert(chain, [{"id": 1, "seq": seq, "hash": previous}])
    op.drop_table("audit_record")


def downgrade() -> None:
    raise NotImplementedError(
        "the audit store cannot be turned back into the HAPI outbox; restore a backup instead"
    )
