"""DEQM-style summary MeasureReports of indicator results, stored in HAPI by conditional update.

One report per indicator, period and scope (a hospital, or the region). Its business identifier
``<indicator>:<period>:<scope>`` is the conditional-update key, so recomputing replaces the
report instead of adding another. Hospital reports carry the hospital's tenancy tag (hospitals
read their own through the FHIR door); region reports carry none, so only region-wide roles see
them.

A proportion whose denominator (minus exclusions) is empty has no score: the group or stratum
then carries ``measureScore`` with only a data-absent-reason (``not-applicable``) and keeps its
populations with their counts, zero included (profile invariants vte-mr-2 and vte-mr-3). Every
stratifier the Measure declares is present, with no stratum when no stay falls into one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction
from html import escape
from typing import Any
from urllib.parse import quote

from facade.errors import UpstreamRejected
from facade.fhir.naming import (
    CANONICAL,
    ORG_CODE_SYSTEM,
    REPORTING_ORG_TAG,
    department_code_system,
    profile_url,
)
from facade.indicators.definitions import Indicator, PopulationCode
from facade.indicators.periods import Period
from facade.indicators.results import REGION, Counts, IndicatorResult, ScopeResult, score
from facade.upstream import UpstreamClient

REPORT_IDENTIFIER_SYSTEM = f"{CANONICAL}/sid/measure-report"
INDICATOR_IDENTIFIER_SYSTEM = f"{CANONICAL}/sid/indicator"
REGION_SYSTEM = f"{CANONICAL}/sid/region"
STRATIFIER_SYSTEM = f"{CANONICAL}/CodeSystem/indicator-stratifier"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
REPORT_PROFILE = profile_url("vte-summary-measurereport")
STRATIFIER_NAMES = {
    "hospital": "医院 (hospital)",
    "discharge-department": "出院科室 (discharge department)",
    "discharge-month": "出院月份 (discharge month)",
    # Only in a parent's area reports (facade/network): the child region that reported the stay.
    "child-region": "下级区域 (child region)",
}
SCORE_PLACES = 6


def measure_url(indicator: Indicator) -> str:
    """Canonical URL of the indicator's Measure."""
    return f"{CANONICAL}/Measure/{indicator.slug}"


def region_key(orgs: Sequence[str] | None) -> str:
    """Scope key of a region: ``region`` for every hospital, else a digest of the hospital list."""
    if not orgs:
        return REGION
    digest = hashlib.sha256(",".join(sorted(orgs)).encode()).hexdigest()[:12]
    return f"{REGION}-{digest}"


def report_identifier(indicator: Indicator, period: Period, scope: str) -> str:
    """Business identifier value of a report: ``A1:2026-Q1:<org code or region key>``."""
    return f"{indicator.id}:{period.label}:{scope}"


def score_value(counts: Counts) -> float | None:
    """The proportion score, rounded for publication (None when the denominator is empty)."""
    value = score(counts)
    return None if value is None else round(float(value), SCORE_PLACES)


def measure_score(counts: Counts) -> dict[str, Any]:
    """``measureScore`` of a group or stratum: the value, or why there is none."""
    value = score_value(counts)
    if value is None:
        return {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "not-applicable"}]}
    return {"value": value}


def build_report(
    indicator: Indicator,
    result: IndicatorResult,
    period: Period,
    *,
    org: str | None,
    region: str = REGION,
    org_names: dict[str, str] | None = None,
    now: datetime | None = None,
    status: str = "complete",
    extra_stratifiers: Sequence[str] = (),
) -> dict[str, Any]:
    """The summary MeasureReport of one scope: a hospital (``org``) or the region.

    A parent's area report (facade/network) adds the ``child-region`` stratifier and is
    ``pending`` while a child region's data is missing.
    """
    scope = result.scope(org)
    names = org_names or {}
    codes = [c.value for c in indicator.codes]
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "meta": {"profile": [REPORT_PROFILE]},
        "identifier": [
            {
                "system": REPORT_IDENTIFIER_SYSTEM,
                "value": report_identifier(indicator, period, org or region),
            }
        ],
        "status": status,
        "type": "summary",
        "measure": measure_url(indicator),
        "date": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": {
            "start": period.start.isoformat(timespec="seconds"),
            "end": period.last_moment.isoformat(timespec="seconds"),
        },
        "improvementNotation": {
            "coding": [{"system": IMPROVEMENT_SYSTEM, "code": indicator.improvement}]
        },
        "group": [_group(indicator, scope, codes, names, org, extra_stratifiers)],
    }
    report["text"] = _narrative(
        indicator, scope, period, names.get(org, org) if org else "区域 (region)"
    )
    if org is not None:
        report["meta"]["tag"] = [{"system": REPORTING_ORG_TAG, "code": org}]
        report["reporter"] = {
            "identifier": {"system": ORG_CODE_SYSTEM, "value": org},
            "display": names.get(org, org),
        }
    else:
        report["reporter"] = {
            "identifier": {"system": REGION_SYSTEM, "value": region},
            "display": "区域VTE质控平台 (regional VTE quality-control platform)",
        }
    return report


def _narrative(
    indicator: Indicator, scope: ScopeResult, period: Period, who: str
) -> dict[str, str]:
    counts = scope.populations
    value = score_value(counts)
    rate = "— (no denominator)" if value is None else f"{value * 100:.2f}%"
    cells = "".join(
        f"<td>{escape(code.value)}: {counts.get(code.value, 0)}</td>" for code in indicator.codes
    )
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        f"<p>{escape(indicator.id)} {escape(indicator.name.zh)} ({escape(indicator.name.en)}), "
        f"{escape(period.label)}, {escape(who)}: <b>{rate}</b></p>"
        f"<table><tr>{cells}</tr></table></div>"
    )
    return {"status": "generated", "div": div}


def _group(
    indicator: Indicator,
    scope: ScopeResult,
    codes: list[str],
    names: dict[str, str],
    org: str | None,
    extra_stratifiers: Sequence[str] = (),
) -> dict[str, Any]:
    # No group.code: the Measure's single group has none either (validators match them up).
    group: dict[str, Any] = {
        "id": indicator.id,
        "population": _populations(scope.populations, codes, with_ids=True),
        "measureScore": measure_score(scope.populations),
    }
    stratifiers = []
    for stratifier_name in [*(s.value for s in indicator.stratifiers), *extra_stratifiers]:
        strata = scope.strata.get(stratifier_name) or {}
        if (
            stratifier_name == "hospital"
            and org is not None
            and scope.populations.get("initial-population")
        ):
            # a hospital's own report has the Measure's hospital stratifier with its one stratum
            strata = {org: scope.populations}
        entry: dict[str, Any] = {
            "code": [
                {
                    "coding": [{"system": STRATIFIER_SYSTEM, "code": stratifier_name}],
                    "text": STRATIFIER_NAMES[stratifier_name],
                }
            ]
        }
        if strata:  # the Measure's stratifiers are all reported, with or without strata
            entry["stratum"] = [
                _stratum(stratifier_name, key, counts, codes, names)
                for key, counts in sorted(strata.items())
            ]
        stratifiers.append(entry)
    if stratifiers:
        group["stratifier"] = stratifiers
    return group


def _populations(counts: Counts, codes: list[str], *, with_ids: bool) -> list[dict[str, Any]]:
    out = []
    for code in codes:
        entry: dict[str, Any] = {
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": code}]},
            "count": counts.get(code, 0),
        }
        if with_ids:
            entry["id"] = code
        out.append(entry)
    return out


def _stratum(
    name: str, key: str, counts: Counts, codes: list[str], names: dict[str, str]
) -> dict[str, Any]:
    if name == "hospital":
        value: dict[str, Any] = {
            "coding": [{"system": ORG_CODE_SYSTEM, "code": key}],
            "text": names.get(key, key),
        }
    elif name == "child-region":
        value = {"coding": [{"system": REGION_SYSTEM, "code": key}], "text": names.get(key, key)}
    elif name == "discharge-department":
        org, _, dept = key.partition("/")
        value = {"text": key}
        if dept != "-":
            value["coding"] = [{"system": department_code_system(org), "code": dept}]
    else:
        value = {"text": key}
    return {
        "value": value,
        "population": _populations(counts, codes, with_ids=False),
        "measureScore": measure_score(counts),
    }


def read_counts(report: dict[str, Any]) -> tuple[Counts, dict[str, dict[str, Counts]]]:
    """Populations and strata back out of a stored report (as ``ScopeResult`` keys)."""
    group = (report.get("group") or [{}])[0]

    def counts(populations: list[dict[str, Any]]) -> Counts:
        return {p["code"]["coding"][0]["code"]: int(p.get("count", 0)) for p in populations}

    strata: dict[str, dict[str, Counts]] = {}
    for stratifier in group.get("stratifier") or []:
        if not stratifier.get("stratum"):
            continue  # the Measure's stratifier, with no stay in any stratum
        name = stratifier["code"][0]["coding"][0]["code"]
        strata[name] = {
            _stratum_key(name, s["value"]): counts(s["population"]) for s in stratifier["stratum"]
        }
    return counts(group.get("population") or []), strata


def _stratum_key(name: str, value: dict[str, Any]) -> str:
    if name in ("hospital", "child-region"):
        return str(value["coding"][0]["code"])
    return str(value["text"])


def _conditional_url(report: dict[str, Any]) -> str:
    identifier = report["identifier"][0]
    token = quote(f"{identifier['system']}|{identifier['value']}", safe="")
    return f"MeasureReport?identifier={token}"


async def publish_reports(upstream: UpstreamClient, reports: Sequence[dict[str, Any]]) -> list[str]:
    """Store a run's reports in one transaction: all of them or, on any refusal, none.

    Each entry is a conditional update on the report's business identifier (recomputing
    replaces). Returns ``MeasureReport/<id>`` per report, in order.
    """
    if not reports:
        return []
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": report,
                "request": {"method": "PUT", "url": _conditional_url(report)},
            }
            for report in reports
        ],
    }
    try:
        answer = await upstream.transaction(bundle)
    except UpstreamRejected as exc:
        raise UpstreamRejected(
            f"publishing {len(reports)} MeasureReports failed and none was stored: {exc.message}",
            upstream_status=exc.upstream_status,
            outcome=exc.outcome,
        ) from exc
    ids = []
    for entry in answer.get("entry") or []:
        location = str((entry.get("response") or {}).get("location") or "")
        ids.append("/".join(location.split("/")[:2]))  # drop /_history/N
    if len(ids) != len(reports):
        raise UpstreamRejected(
            f"the FHIR server answered {len(ids)} entries for {len(reports)} MeasureReports",
            upstream_status=502,
        )
    return ids


async def find_reports(
    upstream: UpstreamClient, identifiers: list[str]
) -> dict[str, dict[str, Any]]:
    """Stored reports by business identifier value (missing ones absent)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(identifiers), 20):
        chunk = identifiers[start : start + 20]
        tokens = ",".join(f"{REPORT_IDENTIFIER_SYSTEM}|{value}" for value in chunk)
        page = await upstream.get_json(
            "MeasureReport", {"identifier": tokens, "_count": str(len(chunk))}
        )
        for entry in page.get("entry") or []:
            resource = entry.get("resource") or {}
            for identifier in resource.get("identifier") or []:
                if identifier.get("system") == REPORT_IDENTIFIER_SYSTEM:
                    found[identifier["value"]] = resource
    return found


def scope_from_report(report: dict[str, Any]) -> ScopeResult:
    """A stored report as a ScopeResult (for tables and comparisons)."""
    populations, strata = read_counts(report)
    return ScopeResult(populations, strata)


def fraction_text(counts: Counts) -> str:
    """``numerator/denominator`` for tables."""
    excluded = counts.get(PopulationCode.EXCLUSION.value, 0)
    value: Fraction | None = score(counts)
    shown = f"{counts.get('numerator', 0)}/{counts.get('denominator', 0) - excluded}"
    return shown if value is not None else f"{shown} (no denominator)"
