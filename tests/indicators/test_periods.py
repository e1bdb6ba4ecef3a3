"""Reporting periods are half-open local ranges; months come out in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from facade.errors import InvalidInput
from facade.indicators.periods import month_of, parse_period

CST = timezone(timedelta(hours=8))


def test_quarter() -> None:
    q1 = parse_period("2026-q1", CST)
    assert (q1.label, q1.start, q1.end) == (
        "2026-Q1",
        datetime(2026, 1, 1, tzinfo=CST),
        datetime(2026, 4, 1, tzinfo=CST),
    )
    assert q1.months() == ["2026-01", "2026-02", "2026-03"]
    assert q1.last_moment == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)


@pytest.mark.parametrize(
    ("label", "start", "end", "months"),
    [
        ("2026-Q4", (2026, 10), (2027, 1), 3),
        ("2026-H2", (2026, 7), (2027, 1), 6),
        ("2026-12", (2026, 12), (2027, 1), 1),
        ("2025", (2025, 1), (2026, 1), 12),
    ],
)
def test_other_shapes(
    label: str, start: tuple[int, int], end: tuple[int, int], months: int
) -> None:
    period = parse_period(label, CST)
    assert period.start == datetime(*start, 1, tzinfo=CST)
    assert period.end == datetime(*end, 1, tzinfo=CST)
    assert len(period.months()) == months


def test_boundaries_are_half_open() -> None:
    q1 = parse_period("2026-Q1", CST)
    assert q1.contains(datetime(2026, 1, 1, tzinfo=CST))
    assert q1.contains(datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST))
    assert not q1.contains(datetime(2026, 4, 1, tzinfo=CST))
    # 2025-12-31T16:00Z is already January 1st in China
    assert q1.contains(datetime(2025, 12, 31, 16, 0, tzinfo=UTC))
    assert month_of(datetime(2026, 1, 31, 16, 0, tzinfo=UTC), CST) == "2026-02"
    assert q1.month_range("2026-02") == (
        datetime(2026, 2, 1, tzinfo=CST),
        datetime(2026, 3, 1, tzinfo=CST),
    )


@pytest.mark.parametrize("label", ["2026-Q5", "2026-13", "26-Q1", "Q1", "2026/01", ""])
def test_bad_labels_name_the_rule(label: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_period(label, CST)
    assert caught.value.issues[0].location == "period"
    assert caught.value.issues[0].rule == "period-format"


@pytest.mark.parametrize("label", ["0000", "0000-Q1", "9999-12", "9999-H2"])
def test_periods_outside_the_calendar_are_refused_not_crashed(label: str) -> None:
    # Found by the OpenAPI fuzz: a research request for period 0000 answered 500.
    with pytest.raises(InvalidInput) as caught:
        parse_period(label, CST)
    assert caught.value.issues[0].location == "period"
    assert caught.value.issues[0].rule == "period-range"
    assert parse_period("9999-11", CST).end == datetime(9999, 12, 1, tzinfo=CST)
