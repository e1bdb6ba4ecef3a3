"""The forwarder's backlog as an operator sees it: queue depth, oldest waiting record, rates, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from facade.db import Database
from facade.forward.ids import IdStore
from facade.forward.tables import ForwardValidationAlarm
from facade.native.tables import IntakeRecord

# Windows of the stored-records rate, in seconds (the last minute, five, fifteen).
RATE_WINDOWS = (60, 300, 900)
# Failure reasons are grouped by their text cut here (record-specific tails differ).
REASON_CHARS = 120
TOP_REASONS = 10


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (written as UTC): make every moment comparable."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def backlog(database: Database, *, now: datetime | None = None) -> dict[str, Any]:
    """What ``vte-facade forward status`` shows (JSON-ready)."""
    now = now or datetime.now(UTC)
    with database.session() as session:
        counts = dict(
            session.execute(
                select(IntakeRecord.status, func.count()).group_by(IntakeRecord.status)
            ).all()
        )
        oldest = _aware(
            session.scalar(
                select(func.min(IntakeRecord.created_at)).where(IntakeRecord.status == "accepted")
            )
        )
        rates: dict[str, float] = {}
        for seconds in RATE_WINDOWS:
            stored = session.scalar(
                select(func.count()).where(
                    IntakeRecord.status == "stored",
                    IntakeRecord.stored_at >= now - timedelta(seconds=seconds),
                )
            )
            rates[f"{seconds // 60}m"] = round(int(stored or 0) / seconds, 2)
        reason = func.substr(IntakeRecord.reason, 1, REASON_CHARS)
        failures: list[dict[str, Any]] = [
            {"reason": text or "(none given)", "records": count}
            for text, count in session.execute(
                select(reason, func.count())
                .where(IntakeRecord.status == "failed")
                .group_by(reason)
                .order_by(func.count().desc())
                .limit(TOP_REASONS)
            )
        ]
        alarms = int(session.scalar(select(func.count()).select_from(ForwardValidationAlarm)) or 0)
        last_alarm = session.scalar(
            select(ForwardValidationAlarm.message).order_by(ForwardValidationAlarm.id.desc())
        )
    accepted = int(counts.get("accepted", 0))
    per_second = rates[f"{RATE_WINDOWS[1] // 60}m"]
    return {
        "queue": {s: int(counts.get(s, 0)) for s in ("accepted", "stored", "failed")},
        "oldestAcceptedSeconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "storedPerSecond": rates,
        # At the five-minute rate; None while nothing is moving.
        "drainEtaSeconds": round(accepted / per_second) if accepted and per_second else None,
        "failuresByReason": failures,
        "validationAlarms": {"count": alarms, "last": last_alarm},
        "idScheme": IdStore(database).scheme(),
    }
