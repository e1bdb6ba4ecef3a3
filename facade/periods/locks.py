"""Closing and reopening reporting periods, and the lock check intake runs on every new record version.

The *period of a record* is the discharge moment of its stay: a case (住院病例) is in the period
its ``dischargeDateTime`` falls in; an assessment, prophylaxis or VTE-event record is in its
case's period (found through ``caseRecordId``). A stay not yet discharged is in no period and
never locked; an institution record has no period. A correction of a case is locked when its old
*or* its new discharge lies in a closed period (moving a stay out of a closed quarter changes
that quarter too). What is locked: any new record version in a closed period, corrections and
late first reports alike, because either would change indicator values QC already closed.
Re-sending an already stored version stays an idempotent ``DUPLICATE``.

Periods use the indicator engine's labels (``2026-Q1``, ``2026-03``, ``2026-H1``, ``2026``) in
the mapping time zone. A period may be closed for the whole region or for one institution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from facade.db.tables import utcnow
from facade.errors import Conflict, NotFound
from facade.indicators.periods import parse_period
from facade.periods.tables import ClosedPeriod

REGION = "*"


@dataclass(frozen=True)
class ClosedPeriodView:
    """A closure as people and ``--json`` see it."""

    label: str
    scope: str
    status: str
    start: str
    end: str
    reason: str
    closed_by: str
    closed_at: str
    reopened_by: str | None
    reopened_at: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


def _view(row: ClosedPeriod) -> ClosedPeriodView:
    return ClosedPeriodView(
        row.label,
        "region" if row.scope == REGION else row.scope,
        row.status,
        row.start_at.isoformat(),
        row.end_at.isoformat(),
        row.reason,
        row.closed_by,
        row.closed_at.isoformat(),
        row.reopened_by,
        row.reopened_at.isoformat() if row.reopened_at else None,
    )


def _in_force(session: Session, label: str, scope: str) -> ClosedPeriod | None:
    return session.scalar(
        select(ClosedPeriod).where(
            ClosedPeriod.label == label,
            ClosedPeriod.scope == scope,
            ClosedPeriod.status == "closed",
        )
    )


def close_period(
    session: Session,
    label: str,
    zone: timezone,
    *,
    by: str,
    reason: str = "",
    org_code: str | None = None,
) -> ClosedPeriodView:
    """Close a period (region-wide, or for ``org_code``); Conflict if it is closed already."""
    period = parse_period(label, zone)
    scope = org_code or REGION
    if _in_force(session, period.label, scope) is not None:
        raise Conflict(f"period {period.label} is already closed for {scope}")
    row = ClosedPeriod(
        label=period.label,
        scope=scope,
        # Stored in UTC: SQLite keeps no offset, and everything read back is taken as UTC.
        start_at=period.start.astimezone(UTC),
        end_at=period.end.astimezone(UTC),
        status="closed",
        reason=reason,
        closed_by=by,
    )
    session.add(row)
    session.flush()
    return _view(row)


def reopen_period(
    session: Session, label: str, zone: timezone, *, by: str, org_code: str | None = None
) -> ClosedPeriodView:
    """Reopen a closed period; NotFound if it is not closed for that scope."""
    period = parse_period(label, zone)
    scope = org_code or REGION
    row = _in_force(session, period.label, scope)
    if row is None:
        raise NotFound(f"period {period.label} is not closed for {scope}")
    row.status = "reopened"
    row.reopened_by = by
    row.reopened_at = utcnow()
    session.flush()
    return _view(row)


def list_periods(session: Session, *, include_reopened: bool = False) -> list[ClosedPeriodView]:
    """Closures in force (and reopened ones, with ``include_reopened``), newest period first."""
    query = select(ClosedPeriod).order_by(ClosedPeriod.start_at.desc(), ClosedPeriod.id.desc())
    if not include_reopened:
        query = query.where(ClosedPeriod.status == "closed")
    return [_view(row) for row in session.scalars(query)]


@dataclass(frozen=True)
class ClosedRanges:
    """The periods closed for one institution (its own and the region's), read once per batch."""

    ranges: tuple[tuple[str, datetime, datetime], ...]

    def locked_by(self, moments: Iterable[datetime]) -> str | None:
        """The label of a closed period holding one of ``moments``, if any."""
        for moment in (m.astimezone(UTC) for m in moments):
            for label, start, end in self.ranges:
                if start <= moment < end:
                    return label
        return None


def closed_ranges(session: Session, org_code: str) -> ClosedRanges:
    """Every closure in force that applies to ``org_code`` (usually none: then checks cost nothing)."""
    rows = session.execute(
        select(ClosedPeriod.label, ClosedPeriod.start_at, ClosedPeriod.end_at).where(
            ClosedPeriod.status == "closed",
            or_(ClosedPeriod.scope == REGION, ClosedPeriod.scope == org_code),
        )
    )
    return ClosedRanges(tuple((str(label), _aware(s), _aware(e)) for label, s, e in rows))


def locked_by(session: Session, org_code: str, moments: Iterable[datetime]) -> str | None:
    """The label of a closed period (region-wide or the institution's) holding one of ``moments``."""
    return closed_ranges(session, org_code).locked_by(moments)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone
