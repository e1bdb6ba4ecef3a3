"""Counts torn by writes during a run: found in every scope and stratum, and counted again."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from facade.errors import Conflict
from facade.indicators.engine import Evaluation, EvaluationStats, IndicatorEngine
from facade.indicators.periods import parse_period
from facade.indicators.results import IndicatorResult, ScopeResult, torn
from facade.indicators.search import SearchStats


def _result(numerator: int, *, stratum_numerator: int = 1) -> IndicatorResult:
    whole = {"denominator": 5, "numerator": numerator}
    month = {"denominator": 2, "numerator": stratum_numerator}
    return IndicatorResult(
        "A1",
        "2026-Q1",
        ScopeResult(dict(whole), {"month": {"2026-01": dict(month)}}),
        {"H1": ScopeResult(dict(whole), {"month": {"2026-01": dict(month)}})},
    )


def test_nesting_is_checked_for_numerators_and_exclusions() -> None:
    assert torn({"denominator": 3, "numerator": 3, "denominator-exclusion": 1}) is None
    assert torn({"denominator": 3, "numerator": 4}) == "numerator 4 > denominator 3"
    assert torn({"denominator": 1, "denominator-exclusion": 2}) is not None
    assert torn({"numerator": 9}) is None  # no denominator: nothing to nest in


def test_tears_name_the_scope_and_the_stratum() -> None:
    assert _result(5).tears() == []
    assert _result(6).tears() == [
        "A1 region: numerator 6 > denominator 5",
        "A1 H1: numerator 6 > denominator 5",
    ]
    assert _result(1, stratum_numerator=3).tears() == [
        "A1 region month=2026-01: numerator 3 > denominator 2",
        "A1 H1 month=2026-01: numerator 3 > denominator 2",
    ]


class _Replayed(IndicatorEngine):
    """An engine whose runs return prepared results, one per run (no FHIR server needed)."""

    def __init__(self, runs: list[IndicatorResult]) -> None:
        self.runs = runs
        self.calls = 0

    async def _evaluate_once(self, period: Any, **_: Any) -> Evaluation:
        result = self.runs[min(self.calls, len(self.runs) - 1)]
        self.calls += 1
        span = parse_period("2026-Q1", ZoneInfo("Asia/Shanghai"))
        stats = EvaluationStats(search=SearchStats())
        return Evaluation(span, ["H1"], False, {"A1": result}, {}, stats)


def test_a_torn_run_is_counted_again_and_the_consistent_one_returned() -> None:
    engine = _Replayed([_result(6), _result(4)])
    evaluation = asyncio.run(engine.evaluate("2026-Q1"))
    assert engine.calls == 2
    assert evaluation.results["A1"].region.populations["numerator"] == 4


def test_data_that_keeps_moving_is_refused_with_the_rule_named() -> None:
    engine = _Replayed([_result(6)])
    with pytest.raises(Conflict) as refused:
        asyncio.run(engine.evaluate("2026-Q1"))
    assert engine.calls == 3
    assert refused.value.issues[0].rule == "vte-mr-1"
    assert "numerator 6 > denominator 5" in refused.value.message
