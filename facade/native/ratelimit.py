"""Per-app token bucket in the database, so the limit holds across every worker (code 1009)."""

from __future__ import annotations

from sqlalchemy import case, literal, update
from sqlalchemy.orm import Session

from facade.native.replay import insert_if_absent
from facade.native.tables import NativeRateBucket


def take_token(session: Session, app_id: str, *, now_ms: int, rate: float, burst: int) -> bool:
    """Spend one token of ``app_id``'s bucket; False when it is empty. ``rate <= 0`` means unlimited.

    One conditional UPDATE refills and spends atomically: PostgreSQL locks the row and
    re-checks the condition, SQLite serialises writers, so no worker can spend a token twice.
    """
    if rate <= 0:
        return True
    bucket = NativeRateBucket
    insert_if_absent(
        session,
        bucket.__table__,  # type: ignore[arg-type]
        {"app_id": app_id, "tokens": float(burst), "updated_ms": now_ms},
    )
    # Clocks of several workers may disagree slightly; never refill for negative elapsed time.
    elapsed = case(
        (literal(now_ms) > bucket.updated_ms, literal(now_ms) - bucket.updated_ms), else_=0
    )
    refilled = bucket.tokens + elapsed * (rate / 1000.0)
    available = case((refilled > burst, float(burst)), else_=refilled)
    result = session.execute(
        update(bucket)
        .where(bucket.app_id == app_id, available >= 1.0)
        .values(
            tokens=available - 1.0,
            updated_ms=case((literal(now_ms) > bucket.updated_ms, now_ms), else_=bucket.updated_ms),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
