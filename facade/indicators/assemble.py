"""Per-indicator accumulation: joined stays counted as they go by, counted populations filled in
from HAPI's totals, and the region summed from its hospitals at the end."""

from __future__ import annotations

from facade.indicators.counts import CountKey, signature
from facade.indicators.criteria import Evaluator, Params
from facade.indicators.definitions import Criterion, Indicator
from facade.indicators.facts import StayFacts
from facade.indicators.results import IndicatorResult, ScopeResult, department_key

Counts = dict[str, int]


class IndicatorTally:
    """Counts of one indicator per hospital and per hospital stratum."""

    def __init__(
        self,
        indicator: Indicator,
        populations: list[tuple[str, list[Criterion], list[Criterion] | None, Params | None]],
    ) -> None:
        self.indicator = indicator
        self.codes = [code for code, *_ in populations]
        self.joined = [(code, c, x) for code, c, x, params in populations if params is None]
        self.counted = [(code, params) for code, _, _, params in populations if params is not None]
        self.stratifiers = [s.value for s in indicator.stratifiers]
        self.pops: dict[str, Counts] = {}
        self.strata: dict[str, dict[str, dict[str, Counts]]] = {}

    def _org(self, org: str) -> Counts:
        found = self.pops.get(org)
        if found is None:
            found = self.pops[org] = dict.fromkeys(self.codes, 0)
            self.strata[org] = {}
        return found

    def _bucket(self, org: str, name: str, key: str) -> Counts:
        self._org(org)
        return self.strata[org].setdefault(name, {}).setdefault(key, dict.fromkeys(self.codes, 0))

    def joined_members(self, facts: StayFacts, evaluator: Evaluator) -> list[str]:
        """The joined populations a stay of the census belongs to."""
        return [
            code
            for code, criteria, excluded_by in self.joined
            if evaluator.holds(criteria, facts)
            and not (excluded_by is not None and evaluator.holds(excluded_by, facts))
        ]

    def add_stay(self, facts: StayFacts, evaluator: Evaluator) -> None:
        """Count one stay of the census in every joined population it belongs to."""
        self.add_members(
            facts.org, facts.month, facts.department_key, self.joined_members(facts, evaluator)
        )

    def add_members(
        self, org: str, month: str, department: str, codes: list[str], stays: int = 1
    ) -> None:
        """Count ``stays`` stays of ``org`` (discharge month, department key) in the populations
        ``codes``."""
        for code in codes:
            self._org(org)[code] += stays
            if "discharge-month" in self.stratifiers:
                self._bucket(org, "discharge-month", month)[code] += stays
            if "discharge-department" in self.stratifiers:
                self._bucket(org, "discharge-department", department)[code] += stays

    def fill_counts(self, counted: dict[CountKey, int], orgs: list[str]) -> None:
        """Take the counted populations' totals from HAPI's answers."""
        for org in orgs:
            self._org(org)
        for code, params in self.counted:
            wanted = signature(params)
            for (sig, kind, org, extra), value in counted.items():
                if sig != wanted or org not in self.pops:
                    continue
                if kind == "org":
                    self.pops[org][code] = value
                elif kind == "month" and "discharge-month" in self.stratifiers:
                    self._bucket(org, "discharge-month", extra)[code] = value
                elif kind == "dept" and "discharge-department" in self.stratifiers:
                    self._bucket(org, "discharge-department", department_key(org, extra or None))[
                        code
                    ] = value

    def result(self, period: str) -> IndicatorResult:
        """Hospitals as counted; the region is their sum; strata without initial population dropped."""
        codes = self.codes
        region = dict.fromkeys(codes, 0)
        region_strata: dict[str, dict[str, Counts]] = {}
        orgs: dict[str, ScopeResult] = {}
        for org in sorted(self.pops):
            pops = self.pops[org]
            for code in codes:
                region[code] += pops[code]
            kept = {
                name: {k: c for k, c in values.items() if c.get("initial-population", 0) > 0}
                for name, values in self.strata[org].items()
            }
            kept = {name: values for name, values in kept.items() if values}
            orgs[org] = ScopeResult(dict(pops), kept)
            if "hospital" in self.stratifiers and pops.get("initial-population", 0) > 0:
                region_strata.setdefault("hospital", {})[org] = dict(pops)
            for name, values in kept.items():
                target = region_strata.setdefault(name, {})
                for key, counts in values.items():
                    merged = target.setdefault(key, dict.fromkeys(codes, 0))
                    for code in codes:
                        merged[code] += counts[code]
        return IndicatorResult(self.indicator.id, period, ScopeResult(region, region_strata), orgs)
