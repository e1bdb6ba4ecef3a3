"""Scoring from counters: rates, pass/fail, weighted dimension scores, grades, daily gaps and drops, periods."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta, timezone
from pathlib import Path

import pytest

from facade.dictionary.loader import load_dictionary
from facade.errors import Issue
from facade.indicators.periods import parse_period
from facade.quality.evaluate import issue_path
from facade.quality.report import previous_period
from facade.quality.rules import RuleSet, load_rules
from facade.quality.scoring import judge_volume, scorecard

REPO = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "mappings" / "quality", load_dictionary(REPO / "mappings"))


@pytest.mark.parametrize(
    ("label", "before"),
    [
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026-H1", "2025-H2"),
        ("2026-H2", "2026-H1"),
        ("2026-01", "2025-12"),
        ("2026-07", "2026-06"),
        ("2026", "2025"),
    ],
)
def test_previous_period(label: str, before: str) -> None:
    assert previous_period(parse_period(label, CST)) == before


def test_issue_paths() -> None:
    def path(location: str) -> str:
        return issue_path(Issue(location, "r", "m"))

    assert path("records[3].diagnoses[0].icd10Code") == "diagnoses.icd10Code"
    assert path("records[3].sex") == "sex"
    assert path("records[3].reasons[0]") == "reasons[]"  # an item, not the group
    assert path("records[3]") == ""


def test_scores_weigh_rates_by_severity(rules: RuleSet) -> None:
    counts = Counter(
        {
            "r:case": 100,
            "x:completeness.required.case.sex": 10,  # error, rate 0.1
            "a:case": 90,
            "x:completeness.recommended.case.inpatientNo": 45,  # warning, rate 0.5
        }
    )
    card = scorecard(rules, counts, {})
    sex = card.outcome("completeness.required.case.sex")
    assert sex is not None and sex.rate == 0.1 and sex.status == "failed"
    inpatient = card.outcome("completeness.recommended.case.inpatientNo")
    assert inpatient is not None and inpatient.status == "failed"
    wells = card.outcome("completeness.required.wells.score")
    assert wells is not None and wells.status == "not-applicable"
    # completeness: every other applicable check (r:case / a:case populations) passes with rate 0
    applicable = [
        o for o in card.outcomes if o.check.dimension == "completeness" and o.rate is not None
    ]
    weights = rules.config.severities
    total = sum(weights[o.check.severity] for o in applicable)
    lost = weights["error"] * 0.1 + weights["warning"] * 0.5
    assert card.dimensions["completeness"]["score"] == round(100 * (total - lost) / total, 2)
    scores = [d["score"] for d in card.dimensions.values() if d["score"] is not None]
    assert card.overall == round(sum(scores) / len(scores), 2)
    assert card.grade == rules.config.grade(card.overall)


def test_gaps_and_drops_against_the_history(rules: RuleSet) -> None:
    first = date(2026, 2, 1)
    per_day = {first + timedelta(days=n): 6 for n in range(-20, 28)}
    per_day[first + timedelta(days=3)] = 0  # gap
    per_day[first + timedelta(days=9)] = 1  # drop
    per_day[first + timedelta(days=20)] = 0  # not judged: from "today" on
    outcomes, days = judge_volume(rules, per_day, first, date(2026, 2, 28), date(2026, 2, 21))
    gap = next(o for o in outcomes.values() if o.check.spec.kind == "daily-gap")
    drop = next(o for o in outcomes.values() if o.check.spec.kind == "daily-drop")
    assert gap.dates == (first + timedelta(days=3),) and gap.denominator == 20
    assert drop.dates == (first + timedelta(days=9),) and drop.denominator == 20
    assert [d.flag for d in days if d.flag] == ["gap", "drop"]
    quiet = {
        first + timedelta(days=n): 1 for n in range(-20, 28)
    }  # below min_baseline: never judged
    outcomes, _ = judge_volume(rules, quiet, first, date(2026, 2, 28), date(2026, 3, 1))
    assert all(o.denominator == 0 for o in outcomes.values())
