"""The data-quality report of a period: per institution (with trend and rank) and for the region.

Everything is read from the counters kept at intake (``dq_count``, ``dq_finding``): one grouped
query for every institution's monthly counters of the period (and of the previous period, for
the trend), one for daily volumes, and one per listed problem for its record ids. The JSON
layout is documented in ``facade/quality/README.md``; the Excel workbook, the FHIR
MeasureReports and VTE.DQ.QUERY are all built from it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from facade.db import Database
from facade.errors import NotFound
from facade.indicators.periods import Period, parse_period
from facade.quality import counters, tokens
from facade.quality.models import DailyDrop, DailyGap, Lag
from facade.quality.rules import Check, RuleSet
from facade.quality.scoring import (
    DayVolume,
    Outcome,
    Scorecard,
    judge_volume,
    rank,
    region_card,
    scorecard,
)

RATE_PLACES = 6


def previous_period(period: Period) -> str:
    """The label of the period of the same length just before (``2026-Q1`` → ``2025-Q4``)."""
    label = period.label
    year = period.start.year
    if len(label) == 4:
        return f"{year - 1}"
    kind, number = label[5], label[6:]
    if kind == "Q":
        n = int(number)
        return f"{year - 1}-Q4" if n == 1 else f"{year}-Q{n - 1}"
    if kind == "H":
        return f"{year - 1}-H2" if number == "1" else f"{year}-H1"
    month = period.start.month
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


@dataclass
class PeriodView:
    """Every institution's scorecard of one period, and the region's."""

    period: Period
    counts: counters.Counts
    cards: dict[str, Scorecard]
    region: Scorecard

    @property
    def overall(self) -> dict[str, float | None]:
        """Overall score per institution."""
        return {org: card.overall for org, card in self.cards.items()}


class QualityReports:
    """Builds report documents from the counters of one facade database."""

    def __init__(
        self, rules: RuleSet, database: Database, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.rules = rules
        self.database = database
        self.clock = clock

    def period(self, label: str) -> Period:
        """Parse a period label (InvalidInput naming the rule when it is not one)."""
        return parse_period(label, self.rules.config.tz)

    def today(self) -> date:
        """The local date now: volumes are judged on the days before it."""
        return datetime.fromtimestamp(self.clock(), self.rules.config.tz).date()

    def view(self, session: Session, period: Period, orgs: list[str]) -> PeriodView:
        """Scorecards of ``orgs`` (and the region they form) for one period."""
        months = period.months()
        counts = counters.month_counts(session, months, None)
        stay_type = self.rules.config.stay.record_type
        history = max(
            (
                c.spec.history_days
                for c in self.rules.checks.values()
                if isinstance(c.spec, DailyGap | DailyDrop)
            ),
            default=0,
        )
        first = period.start.date()
        last = (period.end - timedelta(days=1)).date()
        daily = counters.daily_counts(
            session, stay_type, first - timedelta(days=history), last, None
        )
        today = self.today()
        cards: dict[str, Scorecard] = {}
        for org in orgs:
            judged, volume = judge_volume(self.rules, daily.get(org, {}), first, last, today)
            cards[org] = scorecard(self.rules, counts.get(org, Counter()), judged, volume)
        return PeriodView(period, counts, cards, region_card(self.rules, cards.values()))

    def _orgs(self, session: Session) -> dict[str, str]:
        return counters.institutions(session)

    # -- documents

    def institution(self, label: str, org: str) -> dict[str, Any]:
        """The report of one institution for a period; NotFound for an unknown institution."""
        return self.institutions(label, [org])[org]

    def institutions(self, label: str, orgs: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Reports of several institutions (every one when None), sharing one read of the counters."""
        period = self.period(label)
        with self.database.session() as session:
            names = self._orgs(session)
            wanted = sorted(names) if orgs is None else orgs
            for org in wanted:
                if org not in names:
                    raise NotFound(f"institution {org} is not registered")
            now = self.view(session, period, sorted(names))
            before = self.view(session, self.period(previous_period(period)), sorted(names))
            return {org: self._institution(session, org, names, now, before) for org in wanted}

    def _institution(
        self,
        session: Session,
        org: str,
        names: dict[str, str],
        now: PeriodView,
        before: PeriodView,
    ) -> dict[str, Any]:
        card, previous = now.cards[org], before.cards[org]
        document = self._head("institution", now.period, card, previous)
        document.update(
            {
                "orgCode": org,
                "orgName": names[org],
                "rank": {"position": rank(now.overall, org), "of": len(names)},
                "region": {"hospitals": len(names), "overall": now.region.overall},
                "rules": _rules(card, previous),
                "topProblems": self._problems(session, org, now.period, card),
                "refusals": _refusals(now.counts.get(org, Counter())),
                "timeliness": self._lags(card, now.counts.get(org, Counter())),
                "volume": [_day(v) for v in card.volume],
            }
        )
        return document

    def region(self, label: str) -> dict[str, Any]:
        """The region's report: totals, every hospital's scores and rank, the commonest problems."""
        period = self.period(label)
        with self.database.session() as session:
            names = self._orgs(session)
            now = self.view(session, period, sorted(names))
            before = self.view(session, self.period(previous_period(period)), sorted(names))
        document = self._head("region", period, now.region, before.region)
        total: Counter[str] = Counter()
        for org_counts in now.counts.values():
            total.update(org_counts)
        document.update(
            {
                "hospitals": [_hospital(org, names[org], now, before) for org in sorted(names)],
                "rules": _rules(now.region, before.region),
                "topProblems": self._region_problems(now),
                "refusals": _refusals(total),
                "timeliness": self._lags(now.region, total),
            }
        )
        document["hospitals"].sort(key=lambda h: (h["rank"] is None, h["rank"] or 0, h["orgCode"]))
        return document

    def rules_catalogue(self) -> dict[str, Any]:
        """Every check with its dimension, severity and threshold, and the dimensions."""
        config = self.rules.config
        return {
            "version": self.rules.version,
            "dimensions": [d.model_dump() for d in config.dimensions],
            "severities": dict(config.severities),
            "grades": [g.model_dump(by_alias=True) for g in config.grades],
            "rules": [c.describe() for c in self.rules.checks.values()],
        }

    def _head(
        self, kind: str, period: Period, card: Scorecard, previous: Scorecard
    ) -> dict[str, Any]:
        config = self.rules.config
        return {
            "kind": kind,
            "period": period.label,
            "periodStart": period.start.date().isoformat(),
            "periodEnd": period.last_moment.date().isoformat(),
            "previousPeriod": previous_period(period),
            "generatedAt": datetime.fromtimestamp(self.clock(), config.tz).isoformat(
                timespec="seconds"
            ),
            "rulesVersion": self.rules.version,
            "overall": {
                "score": card.overall,
                "grade": card.grade,
                "previous": previous.overall,
                "trend": _trend(card.overall, previous.overall),
            },
            "dimensions": [
                {
                    "id": d.id,
                    "zh": d.zh,
                    "en": d.en,
                    "kahn": list(d.kahn),
                    **card.dimensions[d.id],
                    "previous": previous.dimensions[d.id]["score"],
                    "trend": _trend(
                        card.dimensions[d.id]["score"], previous.dimensions[d.id]["score"]
                    ),
                }
                for d in config.dimensions
            ],
            "kahn": [
                {"category": category, "score": score} for category, score in card.kahn.items()
            ],
        }

    def _problems(
        self, session: Session, org: str, period: Period, card: Scorecard
    ) -> list[dict[str, Any]]:
        limit = self.rules.config.report.ids_per_problem
        listed = []
        for outcome in _worst(self.rules, card)[: self.rules.config.report.top_problems]:
            entry = _problem(outcome)
            if outcome.check.daily:
                entry["dates"] = [d.isoformat() for d in outcome.dates[:limit]]
                shown = len(entry["dates"])
            else:
                ids = counters.finding_ids(
                    session, org, outcome.check.problem, period.months(), limit
                )
                entry["records"] = [{"recordType": rt, "recordId": key} for rt, key in ids]
                shown = len(ids)
            entry["more"] = max(outcome.numerator - shown, 0)
            listed.append(entry)
        return listed

    def _region_problems(self, view: PeriodView) -> list[dict[str, Any]]:
        listed = []
        for outcome in _worst(self.rules, view.region)[: self.rules.config.report.top_problems]:
            entry = _problem(outcome)
            per_org: list[dict[str, Any]] = []
            for org, card in view.cards.items():
                mine = card.outcome(outcome.check.id)
                if mine is not None and mine.numerator:
                    per_org.append({"orgCode": org, "count": mine.numerator, "rate": _rate(mine)})
            per_org.sort(key=lambda h: (-h["count"], h["orgCode"]))
            entry["hospitals"] = per_org
            listed.append(entry)
        return listed

    def _lags(self, card: Scorecard, counts: Counter[str]) -> list[dict[str, Any]]:
        found = []
        for check in self.rules.checks.values():
            if not isinstance(check.spec, Lag):
                continue
            outcome = card.outcome(check.id)
            histogram = {
                n: counts.get(tokens.lag(check.id, n), 0) for n in range(tokens.LAG_CAP_DAYS + 1)
            }
            records = sum(histogram.values())
            found.append(
                {
                    "rule": check.id,
                    "deadlineDays": check.spec.deadline_days,
                    "records": outcome.denominator if outcome else 0,
                    "late": outcome.numerator if outcome else 0,
                    "withinDeadline": (
                        round(1 - (outcome.rate or 0.0), RATE_PLACES)
                        if outcome and outcome.denominator
                        else None
                    ),
                    "medianDays": _quantile(histogram, records, 0.5),
                    "p90Days": _quantile(histogram, records, 0.9),
                    "cappedAtDays": tokens.LAG_CAP_DAYS,
                }
            )
        return found


def _worst(rules: RuleSet, card: Scorecard) -> list[Outcome]:
    """Checks with problems: failed first, then by severity, count and id."""
    weights = rules.config.severities
    with_problems = [o for o in card.outcomes if o.numerator]
    return sorted(
        with_problems,
        key=lambda o: (
            o.status != "failed",
            -weights[o.check.severity],
            -o.numerator,
            o.check.id,
        ),
    )


def _rate(outcome: Outcome) -> float | None:
    rate = outcome.rate
    return None if rate is None else round(rate, RATE_PLACES)


def _problem(outcome: Outcome) -> dict[str, Any]:
    check = outcome.check
    return {
        "rule": check.id,
        "name": check.name.model_dump(),
        "dimension": check.dimension,
        "severity": check.severity,
        "status": outcome.status,
        "count": outcome.numerator,
        "denominator": outcome.denominator,
        "rate": _rate(outcome),
        "threshold": check.threshold,
    }


def _rules(card: Scorecard, previous: Scorecard) -> list[dict[str, Any]]:
    rows = []
    for outcome in card.outcomes:
        check: Check = outcome.check
        before = previous.outcome(check.id)
        rows.append(
            {
                "id": check.id,
                "family": check.spec.id,
                "kind": check.spec.kind,
                "name": check.name.model_dump(),
                "dimension": check.dimension,
                "kahn": check.spec.kahn.model_dump(exclude_none=True),
                "severity": check.severity,
                "threshold": check.threshold,
                "recordType": check.record_type,
                "field": check.field,
                "numerator": outcome.numerator,
                "denominator": outcome.denominator,
                "rate": _rate(outcome),
                "status": outcome.status,
                "previousRate": _rate(before) if before else None,
            }
        )
    return rows


def _refusals(counts: Counter[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for token, count in counts.items():
        if token.startswith("b:") and count:
            _, code, rule = token.split(":", 2)
            rows.append({"code": code, "rule": rule, "count": count})
    rows.sort(key=lambda r: (-r["count"], r["code"], r["rule"]))
    return rows


def _hospital(org: str, name: str, now: PeriodView, before: PeriodView) -> dict[str, Any]:
    card = now.cards[org]
    return {
        "orgCode": org,
        "name": name,
        "overall": card.overall,
        "grade": card.grade,
        "rank": rank(now.overall, org),
        "previous": before.cards[org].overall,
        "trend": _trend(card.overall, before.cards[org].overall),
        "dimensions": {d: v["score"] for d, v in card.dimensions.items()},
        "failedRules": sum(o.status == "failed" for o in card.outcomes),
        "records": sum(v for t, v in now.counts.get(org, Counter()).items() if t.startswith("r:")),
    }


def _trend(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return round(now - before, 2)


def _day(volume: DayVolume) -> dict[str, Any]:
    return {
        "date": volume.day.isoformat(),
        "count": volume.count,
        "baseline": volume.baseline,
        "flag": volume.flag,
    }


def _quantile(histogram: dict[int, int], total: int, share: float) -> int | None:
    if not total:
        return None
    running = 0
    for days, count in sorted(histogram.items()):
        running += count
        if running >= share * total:
            return days
    return None
