"""Nonce replay cache in the database, shared by every worker (§2.6 step 7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from facade.db.statements import dialect_insert
from facade.native.tables import NativeNonce


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless its key exists; True if inserted. Atomic on SQLite and PostgreSQL.

    ``RETURNING`` tells whether a row went in (psycopg reports no rowcount for this statement).
    """
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    key = next(iter(table.primary_key.columns))
    return session.execute(statement.returning(key)).first() is not None


def claim_nonce(
    session: Session, app_id: str, nonce: str, *, now_ms: int, ttl_seconds: int
) -> bool:
    """Remember ``appId:nonce`` for ``ttl_seconds``; False if it is already remembered (a replay).

    An expired entry that no purge has removed yet does not count: the nonce is free again.
    """
    session.execute(
        delete(NativeNonce).where(
            NativeNonce.app_id == app_id,
            NativeNonce.nonce == nonce,
            NativeNonce.expires_ms <= now_ms,
        )
    )
    row = {"app_id": app_id, "nonce": nonce, "expires_ms": now_ms + ttl_seconds * 1000}
    return insert_if_absent(session, NativeNonce.__table__, row)  # type: ignore[arg-type]


def purge_expired(session: Session, *, now_ms: int) -> int:
    """Delete every expired nonce; returns how many went."""
    result = session.execute(delete(NativeNonce).where(NativeNonce.expires_ms <= now_ms))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
