"""Plain containers for indicator results, shared by the engine, the ground truth and the reports.

Counts are kept per population code. A scope is the region or one hospital; its strata are keyed
by stratifier and then by stratum key: the org code (hospital), ``<org>/<dept>`` (discharge
department; department codes are hospital-local) or ``YYYY-MM`` (discharge month). A stratum is
present exactly when its initial population is not empty.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Counts = dict[str, int]
REGION = "region"


def department_key(org: str, dept: str | None) -> str:
    """Stratum key of a hospital-local department ("-" when the stay names none)."""
    return f"{org}/{dept or '-'}"


def score(counts: Counts) -> Fraction | None:
    """Proportion score: numerator / (denominator - exclusions); None when that is zero."""
    denominator = counts.get("denominator", 0) - counts.get("denominator-exclusion", 0)
    if denominator <= 0:
        return None
    return Fraction(counts.get("numerator", 0), denominator)


def torn(counts: Counts) -> str | None:
    """What breaks nesting in one set of populations (a numerator above its denominator, more
    exclusions than the denominator), or None. Counts asked one after another can tear like this
    when stays are written during the run; HAPI would refuse such a report (vte-mr-1)."""
    denominator = counts.get("denominator")
    if denominator is None:
        return None
    for code in ("numerator", "denominator-exclusion"):
        if counts.get(code, 0) > denominator:
            return f"{code} {counts[code]} > denominator {denominator}"
    return None


@dataclass
class ScopeResult:
    """Populations and strata of one scope (the region or one hospital)."""

    populations: Counts
    strata: dict[str, dict[str, Counts]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (sorted, so two results compare and print the same)."""
        return {
            "populations": dict(sorted(self.populations.items())),
            "strata": {
                name: {key: dict(sorted(c.items())) for key, c in sorted(values.items())}
                for name, values in sorted(self.strata.items())
            },
        }


@dataclass
class IndicatorResult:
    """One indicator over one period: the region and each hospital in it."""

    indicator_id: str
    period: str
    region: ScopeResult
    orgs: dict[str, ScopeResult] = field(default_factory=dict)

    def tears(self) -> list[str]:
        """Every scope and stratum whose populations do not nest (see ``torn``)."""
        scopes = {"region": self.region, **self.orgs}
        found = []
        for name, scope in scopes.items():
            groups = {name: scope.populations}
            for stratifier, values in scope.strata.items():
                groups.update({f"{name} {stratifier}={key}": c for key, c in values.items()})
            found += [
                f"{self.indicator_id} {where}: {why}"
                for where, counts in groups.items()
                if (why := torn(counts)) is not None
            ]
        return found

    def scope(self, org: str | None) -> ScopeResult:
        """The region (None) or one hospital; an unknown hospital has empty populations."""
        if org is None:
            return self.region
        return self.orgs.get(org) or ScopeResult({code: 0 for code in self.region.populations})

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {
            "indicator": self.indicator_id,
            "period": self.period,
            REGION: self.region.as_dict(),
            "orgs": {org: r.as_dict() for org, r in sorted(self.orgs.items())},
        }


class Tally:
    """Accumulates membership of stays into region, hospital and stratum counts."""

    def __init__(self, codes: list[str], stratifiers: list[str], orgs: list[str]) -> None:
        self.codes = codes
        self.stratifiers = stratifiers
        self.region: Counts = {code: 0 for code in codes}
        self.orgs: dict[str, Counts] = {org: {code: 0 for code in codes} for org in orgs}
        self.region_strata: dict[str, dict[str, Counts]] = defaultdict(dict)
        self.org_strata: dict[str, dict[str, dict[str, Counts]]] = defaultdict(
            lambda: defaultdict(dict)
        )

    def add(self, org: str, dept: str | None, month: str, members: list[str]) -> None:
        """Count one stay in every population it belongs to (``members``)."""
        if not members:
            return
        org_counts = self.orgs.setdefault(org, {code: 0 for code in self.codes})
        keys = {
            "hospital": org,
            "discharge-department": department_key(org, dept),
            "discharge-month": month,
        }
        for code in members:
            self.region[code] += 1
            org_counts[code] += 1
        for name in self.stratifiers:
            key = keys[name]
            bucket = self.region_strata[name].setdefault(key, {c: 0 for c in self.codes})
            for code in members:
                bucket[code] += 1
            if name == "hospital":
                continue
            org_bucket = self.org_strata[org][name].setdefault(key, {c: 0 for c in self.codes})
            for code in members:
                org_bucket[code] += 1

    def result(self, indicator_id: str, period: str) -> IndicatorResult:
        """The finished result (strata without initial population dropped)."""
        region = ScopeResult(dict(self.region), _clean(self.region_strata))
        orgs = {
            org: ScopeResult(dict(counts), _clean(self.org_strata.get(org, {})))
            for org, counts in self.orgs.items()
        }
        return IndicatorResult(indicator_id, period, region, orgs)


def _clean(strata: dict[str, dict[str, Counts]]) -> dict[str, dict[str, Counts]]:
    out: dict[str, dict[str, Counts]] = {}
    for name, values in strata.items():
        kept = {key: dict(c) for key, c in values.items() if c.get("initial-population", 0) > 0}
        if kept:
            out[name] = kept
    return out
