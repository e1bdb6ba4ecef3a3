"""The refresher's clock and queue: next run, periods to refresh, one job per period and scope."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from facade.indicators.schedule import (
    IndicatorRefresher,
    next_run,
    periods_ending,
    recent_periods,
)
from facade.settings import Settings
from facade.upstream import UpstreamClient

CST = timezone(timedelta(hours=8))


def test_next_run_is_the_next_local_time_today_or_tomorrow() -> None:
    # 01:00 UTC is 09:00 in China: 02:30 has passed today, 14:00 has not
    now = datetime(2026, 3, 31, 1, 0, tzinfo=UTC)
    assert next_run(now, ["02:30", "14:00"], CST) == datetime(2026, 3, 31, 14, 0, tzinfo=CST)
    assert next_run(now, ["02:30"], CST) == datetime(2026, 4, 1, 2, 30, tzinfo=CST)
    assert next_run(now, [], CST) is None


def test_periods_cross_year_boundaries() -> None:
    # 2026-01-01 02:00 local is still 2025-12-31 in UTC: the reporting zone decides the quarter
    now = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    assert recent_periods(now, "quarter", 2, CST) == ["2026-Q1", "2025-Q4"]
    assert recent_periods(now, "month", 3, CST) == ["2026-01", "2025-12", "2025-11"]
    assert periods_ending("2026-H1", 3, CST) == ["2025-H1", "2025-H2", "2026-H1"]
    assert periods_ending("2026", 2, CST) == ["2025", "2026"]


def test_a_request_waiting_is_not_queued_twice_and_a_failure_is_kept(settings: Settings) -> None:
    refresher = IndicatorRefresher(settings)
    first = refresher.request("2026-Q1", None, "qc1")
    assert refresher.request("2026-Q1", None, "qc2") is first
    other = refresher.request("2026-Q1", "91320100MA1W5X4Y0L", "qc1")
    assert other is not first and [j.id for j in refresher.jobs()] == [other.id, first.id]
    unreachable = settings.model_copy(update={"fhir_base_url": "http://127.0.0.1:9/fhir"})

    async def run() -> None:
        upstream = UpstreamClient(unreachable)
        try:
            await refresher.run_job(first, upstream)
        finally:
            await upstream.aclose()

    asyncio.run(run())
    assert first.state == "failed" and first.error and first.finished_at is not None


@pytest.mark.parametrize("bad", ["2:30", "24:00", "noon"])
def test_refresh_times_must_be_clock_times(bad: str) -> None:
    with pytest.raises(ValueError, match="indicator_refresh_times"):
        Settings(environment="test", indicator_refresh_times=[bad])
