"""Judging checks against counters: numerator, denominator, rate and status; dimension scores; daily volumes.

A check's rate is problems / records it applies to; it passes when the rate does not exceed its
threshold, and is not applicable without a denominator. A dimension scores
``100 × Σ weight × (1 − rate) / Σ weight`` over its applicable checks (weights by severity); the
overall score is the mean of the dimension scores; the grade follows ``_config.yaml``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from facade.quality.models import DailyDrop, DailyGap
from facade.quality.rules import Check, RuleSet

SCORE_PLACES = 2


@dataclass(frozen=True)
class Outcome:
    """One check judged for one scope (a hospital, or the region as the sum of its hospitals)."""

    check: Check
    numerator: int
    denominator: int
    dates: tuple[date, ...] = ()  # daily checks: the days with the problem

    @property
    def rate(self) -> float | None:
        """Problem rate (None without a denominator)."""
        if not self.denominator:
            return None
        return self.numerator / self.denominator

    @property
    def status(self) -> str:
        """passed, failed or not-applicable."""
        rate = self.rate
        if rate is None:
            return "not-applicable"
        return "passed" if rate <= self.check.threshold else "failed"


@dataclass
class DayVolume:
    """One day of a hospital's volume: count, the mean of its history window, and the verdict."""

    day: date
    count: int
    baseline: float | None  # None: not enough history to judge
    flag: str | None = None  # gap | drop


@dataclass
class Scorecard:
    """Every check of one scope, with dimension and overall scores."""

    outcomes: list[Outcome]
    dimensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    kahn: dict[str, float | None] = field(default_factory=dict)
    overall: float | None = None
    grade: str | None = None
    volume: list[DayVolume] = field(default_factory=list)

    def outcome(self, check_id: str) -> Outcome | None:
        """The outcome of one check, if it exists."""
        return next((o for o in self.outcomes if o.check.id == check_id), None)


def judge_volume(
    rules: RuleSet, per_day: Mapping[date, int], first: date, last: date, today: date
) -> tuple[dict[str, Outcome], list[DayVolume]]:
    """Gap and drop checks over the days ``first``..``last`` (days from ``today`` on are not judged)."""
    outcomes: dict[str, Outcome] = {}
    days = (last - first).days + 1
    shown = [
        DayVolume(first + timedelta(days=n), per_day.get(first + timedelta(days=n), 0), None)
        for n in range(days)
    ]
    for check in rules.checks.values():
        spec = check.spec
        if not isinstance(spec, DailyGap | DailyDrop):
            continue
        history = spec.history_days
        # running sums over [first - history, last]: the window of day n is sums[n + h] - sums[n]
        sums = [0]
        for n in range(-history, days):
            sums.append(sums[-1] + per_day.get(first + timedelta(days=n), 0))
        judged = 0
        problems: list[date] = []
        for n, entry in enumerate(shown):
            baseline = (sums[n + history] - sums[n]) / history
            if entry.day >= today or baseline < spec.min_baseline:
                continue
            judged += 1
            entry.baseline = round(baseline, 2)
            count = entry.count
            broken = count == 0 if isinstance(spec, DailyGap) else 0 < count < spec.ratio * baseline
            if broken:
                problems.append(entry.day)
                entry.flag = "gap" if isinstance(spec, DailyGap) else "drop"
        outcomes[check.id] = Outcome(check, len(problems), judged, tuple(problems))
    return outcomes, shown


def scorecard(
    rules: RuleSet,
    counts: Counter[str],
    daily: Mapping[str, Outcome],
    volume: list[DayVolume] | None = None,
) -> Scorecard:
    """Judge every check of one scope from its summed counters (daily checks come judged)."""
    outcomes = []
    for check in rules.checks.values():
        if check.id in daily:
            outcomes.append(daily[check.id])
            continue
        denominator = sum(counts.get(token, 0) for token in check.denominator)
        outcomes.append(Outcome(check, counts.get(check.problem, 0), denominator))
    return _scored(rules, outcomes, volume or [])


def region_card(rules: RuleSet, cards: Iterable[Scorecard]) -> Scorecard:
    """The region as the sum of its hospitals: numerators and denominators added check by check."""
    totals: dict[str, list[int]] = {c: [0, 0] for c in rules.checks}
    for card in cards:
        for outcome in card.outcomes:
            totals[outcome.check.id][0] += outcome.numerator
            totals[outcome.check.id][1] += outcome.denominator
    outcomes = [Outcome(rules.checks[c], n, d) for c, (n, d) in totals.items()]
    return _scored(rules, outcomes, [])


def _scored(rules: RuleSet, outcomes: list[Outcome], volume: list[DayVolume]) -> Scorecard:
    config = rules.config
    card = Scorecard(outcomes, volume=volume)
    for dimension in config.dimensions:
        mine = [o for o in outcomes if o.check.dimension == dimension.id]
        card.dimensions[dimension.id] = {
            "score": _weighted(rules, mine),
            "passed": sum(o.status == "passed" for o in mine),
            "failed": sum(o.status == "failed" for o in mine),
            "notApplicable": sum(o.status == "not-applicable" for o in mine),
        }
    for category in ("conformance", "completeness", "plausibility"):
        card.kahn[category] = _weighted(
            rules, [o for o in outcomes if o.check.spec.kahn.category == category]
        )
    scores = [d["score"] for d in card.dimensions.values() if d["score"] is not None]
    if scores:
        card.overall = round(sum(scores) / len(scores), SCORE_PLACES)
        card.grade = config.grade(card.overall)
    return card


def _weighted(rules: RuleSet, outcomes: list[Outcome]) -> float | None:
    weights = rules.config.severities
    total = quality = 0.0
    for outcome in outcomes:
        rate = outcome.rate
        if rate is None:
            continue
        weight = weights[outcome.check.severity]
        total += weight
        quality += weight * (1.0 - rate)
    return round(100.0 * quality / total, SCORE_PLACES) if total else None


def rank(overall: Mapping[str, float | None], org: str) -> int | None:
    """1 + the number of hospitals with a strictly higher overall score (None without a score)."""
    mine = overall.get(org)
    if mine is None:
        return None
    return 1 + sum(1 for score in overall.values() if score is not None and score > mine)
