"""The parent's indicators for its whole area, from its children's reports and their linkage data.

A proportion measure over stays is a count of stays per population, so the area's count is the
sum of the regions' counts, stratum by stratum (hospital, department and month keys are the same
at every level; the child region becomes a stratum of its own). That holds for every population
whose membership a region decides alone. A *linked* population (facade/network/linkage.py)
depends on events in other regions, so its counts are not summed: they are counted afresh from the
hospital-associated stays the parent linked, with each stay's strata. The result equals what one
facade holding every record would compute (tests/network prove it on synthetic regions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from facade.indicators.criteria import Evaluator
from facade.indicators.definitions import Definitions, Indicator
from facade.indicators.report import read_counts
from facade.indicators.results import Counts, IndicatorResult, ScopeResult
from facade.network.linkage import Linkage, LinkedPopulation, LinkedStay

CHILD_REGION = "child-region"


@dataclass(frozen=True)
class ChildReport:
    """One region's report of one indicator: its counts and the display names it carries."""

    populations: Counts
    strata: dict[str, dict[str, Counts]]
    names: dict[str, str]  # org code → hospital name (from the hospital stratum's text)

    @classmethod
    def of(cls, report: dict[str, Any]) -> ChildReport:
        """Read a stored MeasureReport."""
        populations, strata = read_counts(report)
        names: dict[str, str] = {}
        for stratifier in (report.get("group") or [{}])[0].get("stratifier") or []:
            code = stratifier["code"][0]["coding"][0]["code"]
            if code != "hospital":
                continue
            for stratum in stratifier.get("stratum") or []:
                value = stratum["value"]
                names[value["coding"][0]["code"]] = value.get("text") or ""
        return cls(populations, strata, names)


def area_result(
    indicator: Indicator,
    period: str,
    reports: Mapping[str, ChildReport],
    linkage: Linkage,
    linked: list[LinkedPopulation],
    evaluator: Evaluator,
) -> IndicatorResult:
    """The area's result of one indicator (``orgs`` left empty: the parent publishes the area)."""
    codes = [c.value for c in indicator.codes]
    mine = {lp.code: lp for lp in linked if lp.indicator == indicator.id}
    names = [s.value for s in indicator.stratifiers] + [CHILD_REGION]
    populations: Counts = dict.fromkeys(codes, 0)
    strata: dict[str, dict[str, Counts]] = {name: {} for name in names}

    def add(name: str, key: str, code: str, count: int) -> None:
        if name in strata:
            bucket = strata[name].setdefault(key, dict.fromkeys(codes, 0))
            bucket[code] += count

    for region, report in sorted(reports.items()):
        for code in codes:
            if code in mine:
                continue
            count = report.populations.get(code, 0)
            populations[code] += count
            add(CHILD_REGION, region, code, count)
            for name, values in report.strata.items():
                for key, counts in values.items():
                    add(name, key, code, counts.get(code, 0))
    for stay in linkage.stays:
        facts = stay.facts()
        for code, population in mine.items():
            if population.key in stay.detail.members and evaluator.holds(
                list(population.linked), facts
            ):
                populations[code] += 1
                _add_stay(add, stay, code)
    kept = {
        name: {k: c for k, c in values.items() if c.get("initial-population", 0) > 0}
        for name, values in strata.items()
    }
    return IndicatorResult(
        indicator.id,
        period,
        ScopeResult(populations, {name: values for name, values in kept.items() if values}),
    )


def _add_stay(add: Any, stay: LinkedStay, code: str) -> None:
    detail = stay.detail
    add("hospital", detail.hospital, code, 1)
    add("discharge-department", detail.department, code, 1)
    add("discharge-month", detail.month, code, 1)
    add(CHILD_REGION, stay.region, code, 1)


def area_results(
    definitions: Definitions,
    period: str,
    reports: Mapping[str, Mapping[str, ChildReport]],
    linkage: Linkage,
    linked: list[LinkedPopulation],
) -> dict[str, IndicatorResult]:
    """Every indicator of the area; ``reports``: region → indicator id → its report."""
    evaluator = Evaluator(definitions.rules)
    return {
        indicator.id: area_result(
            indicator,
            period,
            {region: found[indicator.id] for region, found in reports.items()},
            linkage,
            linked,
            evaluator,
        )
        for indicator in definitions.indicators.values()
    }
