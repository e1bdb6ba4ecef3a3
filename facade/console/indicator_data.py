"""What the Indicators page shows, read from the stored MeasureReports (never recomputed here).

One page = one period and one scope (the region, or a hospital): every indicator's value with
numerator and denominator, and for the selected indicator its trend over the periods before, the
hospitals compared (region only, from the region report's hospital strata) and its department
and month strata. A handful of searches on MeasureReport identifiers, whatever the region's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from facade.console.report_cache import CachedReport, ReportCache
from facade.indicators.definitions import Definitions, Indicator
from facade.indicators.periods import parse_period
from facade.indicators.report import region_key, report_identifier
from facade.indicators.results import Counts, score
from facade.indicators.schedule import periods_ending, recent_periods
from facade.indicators.service import catalog
from facade.settings import Settings
from facade.upstream import UpstreamClient


@dataclass(frozen=True)
class Figure:
    """A value with the counts it comes from (denominator net of exclusions)."""

    numerator: int
    denominator: int
    exclusions: int
    score: float | None  # 0..1, None without a denominator

    @classmethod
    def of(cls, counts: Counts) -> Figure:
        """The figure of a population count set."""
        value = score(counts)
        excluded = counts.get("denominator-exclusion", 0)
        return cls(
            counts.get("numerator", 0),
            counts.get("denominator", 0) - excluded,
            excluded,
            None if value is None else float(value),
        )

    @property
    def percent(self) -> float | None:
        """The score in percent, rounded to two places."""
        return None if self.score is None else round(self.score * 100, 2)


@dataclass(frozen=True)
class OverviewRow:
    """One indicator in the scope's table."""

    indicator: Indicator
    figure: Figure | None  # None: no report published for this period
    report_id: str | None
    report_date: str | None


@dataclass(frozen=True)
class Stratum:
    """One hospital, department or month."""

    key: str
    org: str | None
    label: str
    figure: Figure


@dataclass
class IndicatorPage:
    """Everything the page renders."""

    period: str
    periods: list[str]  # selectable, newest first
    published_periods: set[str]
    org: str | None
    scope_key: str
    rows: list[OverviewRow]
    selected: Indicator
    trend: list[tuple[str, Figure | None]] = field(default_factory=list)
    hospitals: list[Stratum] = field(default_factory=list)
    region_figure: Figure | None = None
    departments: list[Stratum] = field(default_factory=list)
    months: list[Stratum] = field(default_factory=list)


def _key(settings: Settings, org: str | None) -> str:
    return org or region_key(settings.indicator_region or None)


async def load_page(
    settings: Settings,
    upstream: UpstreamClient,
    *,
    period: str | None,
    org: str | None,
    indicator_id: str | None,
    names: dict[str, str],
    now: datetime,
    cache: ReportCache,
) -> IndicatorPage:
    """Read the reports of a period (default: the latest with a report) for the page."""
    definitions: Definitions = catalog(settings).definitions
    tz = definitions.rules.tz
    indicators = list(definitions.indicators.values())
    selected = definitions.indicators.get(indicator_id or "") or indicators[0]
    key = _key(settings, org)
    candidates = recent_periods(
        now, settings.indicator_refresh_granularity, settings.console_trend_periods, tz
    )
    published = await _published(cache, upstream, indicators[0], candidates, key, tz)
    if period:
        label = parse_period(period, tz).label
    else:
        label = next((p for p in candidates if p in published), candidates[0])
    trend_periods = periods_ending(label, settings.console_trend_periods, tz)
    wanted = {report_identifier(i, parse_period(label, tz), key): i for i in indicators}
    trend_ids = {report_identifier(selected, parse_period(p, tz), key): p for p in trend_periods}
    found = await cache.reports(upstream, sorted(set(wanted) | set(trend_ids)))
    rows = []
    for identifier, indicator in wanted.items():
        report = found.get(identifier)
        figure = Figure.of(report.scope.populations) if report else None
        rows.append(
            OverviewRow(
                indicator,
                figure,
                f"MeasureReport/{report.id}" if report else None,
                _local(report.date, tz) if report else None,
            )
        )
    page = IndicatorPage(
        period=label,
        periods=sorted(set(candidates) | {label}, reverse=True),
        published_periods=published | ({label} if any(r.figure for r in rows) else set()),
        org=org,
        scope_key=key,
        rows=rows,
        selected=selected,
    )
    for identifier, trend_period in sorted(trend_ids.items(), key=lambda item: item[1]):
        report = found.get(identifier)
        page.trend.append((trend_period, Figure.of(report.scope.populations) if report else None))
    current = found.get(report_identifier(selected, parse_period(label, tz), key))
    if current is not None:
        _strata(page, current, org, names)
    return page


def _local(value: Any, tz: Any) -> str | None:
    """A report's ``date`` in the reporting zone, to the minute."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _strata(
    page: IndicatorPage, report: CachedReport, org: str | None, names: dict[str, str]
) -> None:
    scoped = report.scope
    page.region_figure = Figure.of(scoped.populations)
    if org is None:
        hospitals = [
            Stratum(code, code, names.get(code, code), Figure.of(counts))
            for code, counts in scoped.strata.get("hospital", {}).items()
        ]
        page.hospitals = sorted(
            hospitals,
            key=lambda s: (s.figure.score is None, -(s.figure.score or 0.0), s.key),
        )
    for key, counts in sorted(scoped.strata.get("discharge-department", {}).items()):
        owner, _, dept = key.partition("/")
        label = dept if org else f"{names.get(owner, owner)} / {dept}"
        page.departments.append(Stratum(key, owner, label, Figure.of(counts)))
    for key, counts in sorted(scoped.strata.get("discharge-month", {}).items()):
        page.months.append(Stratum(key, org, key, Figure.of(counts)))


async def _published(
    cache: ReportCache,
    upstream: UpstreamClient,
    indicator: Indicator,
    periods: list[str],
    key: str,
    tz: Any,
) -> set[str]:
    """Which of ``periods`` have a report of ``indicator`` for the scope."""
    ids = {report_identifier(indicator, parse_period(p, tz), key): p for p in periods}
    found = await cache.reports(upstream, sorted(ids))
    return {ids[identifier] for identifier in found}
