"""Reading the counters: sums per institution and token over a period, daily volumes, findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facade.native.tables import NativeOrg
from facade.quality import tokens
from facade.quality.tables import DqCount, DqFinding

Counts = dict[str, Counter[str]]  # org code -> token -> count


def month_counts(session: Session, months: Sequence[str], orgs: Sequence[str] | None) -> Counts:
    """Every monthly counter of ``months`` summed per institution (all institutions when None)."""
    query = (
        select(DqCount.org_code, DqCount.token, func.sum(DqCount.value))
        .where(DqCount.bucket.in_(list(months)))
        .group_by(DqCount.org_code, DqCount.token)
    )
    if orgs is not None:
        query = query.where(DqCount.org_code.in_(list(orgs)))
    found: Counts = {}
    for org, token, value in session.execute(query):
        if value:
            found.setdefault(org, Counter())[token] = int(value)
    return found


def daily_counts(
    session: Session, record_type: str, first: date, last: date, orgs: Sequence[str] | None
) -> dict[str, dict[date, int]]:
    """Records per day (``day:<type>`` counters) from ``first`` to ``last`` inclusive."""
    query = select(DqCount.org_code, DqCount.bucket, DqCount.value).where(
        DqCount.token == tokens.daily(record_type),
        DqCount.bucket >= first.isoformat(),
        DqCount.bucket <= last.isoformat(),
    )
    if orgs is not None:
        query = query.where(DqCount.org_code.in_(list(orgs)))
    found: dict[str, dict[date, int]] = {}
    for org, bucket, value in session.execute(query):
        if value:
            found.setdefault(org, {})[date.fromisoformat(bucket)] = int(value)
    return found


def finding_ids(
    session: Session, org: str, token: str, months: Sequence[str], limit: int
) -> list[tuple[str, str]]:
    """Up to ``limit`` (record type, record key) behind a problem counter, in a stable order."""
    query = (
        select(DqFinding.record_type, DqFinding.record_key)
        .where(
            DqFinding.org_code == org,
            DqFinding.token == token,
            DqFinding.bucket.in_(list(months)),
        )
        .order_by(DqFinding.record_type, DqFinding.record_key)
        .limit(limit)
    )
    return [(str(rt), str(key)) for rt, key in session.execute(query)]


def institutions(session: Session) -> dict[str, str]:
    """Registered institutions (code -> name), active or not, plus any with counters only."""
    names = {
        code: name for code, name in session.execute(select(NativeOrg.org_code, NativeOrg.name))
    }
    for (code,) in session.execute(select(DqCount.org_code).distinct()):
        names.setdefault(code, code)
    return names


def days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
