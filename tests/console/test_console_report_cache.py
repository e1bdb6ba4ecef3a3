"""The console's report cache against the real HAPI: read once, revalidated by a count, re-read
when a report is republished (by any process)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from facade.console.report_cache import ReportCache
from facade.indicators.periods import parse_period
from facade.indicators.report import build_report, publish_reports, report_identifier
from facade.indicators.results import IndicatorResult, ScopeResult
from facade.indicators.service import catalog
from facade.settings import Settings
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration
ORG = "91320100MA1W5X4Y0L"  # a well-formed unified social credit code


def test_reports_are_read_once_and_again_only_after_a_change(
    fhir_base_url: str, ig_loaded: dict[str, int], settings: Settings
) -> None:
    live = settings.model_copy(update={"fhir_base_url": fhir_base_url})
    definitions = catalog(live).definitions
    indicator = definitions.indicators["A1"]
    span = parse_period("2026-Q1", definitions.rules.tz)
    region = f"region-{uuid.uuid4().hex[:12]}"
    wanted = [
        report_identifier(indicator, span, region),
        report_identifier(indicator, span, region + "x"),  # never stored
    ]

    def result(numerator: int) -> IndicatorResult:
        counts = {"initial-population": 10, "denominator": 10, "numerator": numerator}
        strata = {
            "hospital": {ORG: counts},
            "discharge-department": {f"{ORG}/0101": counts},
            "discharge-month": {"2026-01": counts},
        }
        return IndicatorResult("A1", span.label, ScopeResult(counts, strata))

    async def run() -> None:
        upstream = UpstreamClient(live)
        cache = ReportCache()
        try:
            await publish_reports(
                upstream, [build_report(indicator, result(4), span, org=None, region=region)]
            )
            first = await cache.reports(upstream, wanted)
            assert list(first) == [wanted[0]]  # the second does not exist: remembered as absent
            assert first[wanted[0]].scope.populations["numerator"] == 4
            assert cache.full_reads == 1
            again = await cache.reports(upstream, wanted)
            assert again[wanted[0]] == first[wanted[0]] and cache.full_reads == 1
            await publish_reports(
                upstream, [build_report(indicator, result(7), span, org=None, region=region)]
            )
            changed = await cache.reports(upstream, wanted)
            assert changed[wanted[0]].scope.populations["numerator"] == 7
            assert cache.full_reads == 2
        finally:
            await upstream.aclose()

    asyncio.run(run())
