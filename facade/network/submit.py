"""``Measure/$submit-data`` as the parent reads it: one child region's summary reports of one period.

The body is a FHIR ``Parameters`` after DEQM's submit-data (R4 core ``Measure/$submit-data``):
one ``measureReport`` part per report. Our guide allows several parts in one call (R4 core has
1..1) so that a region's whole period — every indicator's summary report and its data-quality
report — arrives, is checked and is stored together, all or none. Each report must be ours
(business identifier ``<indicator>:<period>:<scope>``), for one region (``reporter``, system
``.../sid/region``) and one period, and every indicator the parent knows must be there.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from facade.errors import InvalidInput, Issue
from facade.fhir.naming import CANONICAL
from facade.indicators.definitions import Definitions
from facade.indicators.periods import Period, parse_period
from facade.indicators.report import (
    REGION_SYSTEM,
    REPORT_IDENTIFIER_SYSTEM,
    measure_url,
    read_counts,
)
from facade.quality.fhir import MEASURE_URL as DQ_MEASURE_URL

NETWORK_REPORT_SYSTEM = f"{CANONICAL}/sid/network-measure-report"
QUALITY = "DQ"


@dataclass(frozen=True)
class ReportSubmission:
    """A checked submission: the region, the period and its reports ready to store."""

    region: str
    period: Period
    reports: dict[str, dict[str, Any]]  # indicator id (or "DQ") → MeasureReport to store

    def digest(self) -> str:
        """SHA-256 of what the reports say (a re-sent period is a no-op): each indicator's counts
        and strata, and the data-quality scores; not what changes on every build (generation
        time, narrative, server fields)."""
        stable: dict[str, Any] = {}
        for key, report in self.reports.items():
            if key == QUALITY:
                stable[key] = [
                    (g.get("code"), g.get("measureScore"), g.get("population"))
                    for g in report.get("group") or []
                ]
            else:
                stable[key] = read_counts(report)
        return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()


def network_identifier(region: str, report_id: str, period: str) -> str:
    """The parent's business identifier of a child's report: ``330100:A1:2026-Q1``."""
    return f"{region}:{report_id}:{period}"


def parse_submission(body: Any, definitions: Definitions) -> ReportSubmission:
    """Check a ``$submit-data`` body; InvalidInput names every part that breaks a rule."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput(
            "$submit-data takes a Parameters resource",
            issues=[Issue("Parameters", "parameters", "the body must be a FHIR Parameters")],
        )
    parts = body.get("parameter")
    if not isinstance(parts, list) or not parts:
        raise InvalidInput(
            "$submit-data needs at least one measureReport",
            issues=[Issue("Parameters.parameter", "required", "one measureReport part per report")],
        )
    measures = {measure_url(i): i.id for i in definitions.indicators.values()}
    measures[DQ_MEASURE_URL] = QUALITY
    tz = definitions.rules.tz
    issues: list[Issue] = []
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}  # id → (region, period, report)
    for index, part in enumerate(parts):
        where = f"Parameters.parameter[{index}]"
        if not isinstance(part, dict) or part.get("name") != "measureReport":
            issues.append(Issue(f"{where}.name", "known-parameter", "only measureReport parts"))
            continue
        report = part.get("resource")
        if not isinstance(report, dict) or report.get("resourceType") != "MeasureReport":
            issues.append(Issue(f"{where}.resource", "measure-report", "must be a MeasureReport"))
            continue
        checked = _check_report(report, f"{where}.resource", measures, tz, issues)
        if checked is None:
            continue
        report_id, region, label = checked
        if report_id in found:
            issues.append(Issue(f"{where}.resource", "one-per-measure", f"{report_id} sent twice"))
            continue
        found[report_id] = (region, label, report)
    regions = {region for region, _, _ in found.values()}
    labels = {label for _, label, _ in found.values()}
    if len(regions) > 1 or len(labels) > 1:
        issues.append(
            Issue(
                "Parameters.parameter",
                "one-region-one-period",
                "every report of one call must be for the same region and period",
            )
        )
    missing = [i for i in definitions.indicators if i not in found]
    if found and missing:
        issues.append(
            Issue(
                "Parameters.parameter",
                "all-indicators",
                f"the period's report of every indicator is needed; missing: {', '.join(missing)}",
            )
        )
    if issues or not found:
        raise InvalidInput(
            "$submit-data refused: " + (issues[0].message if issues else ""), issues=issues
        )
    region, label = regions.pop(), labels.pop()
    period = parse_period(label, tz)
    return ReportSubmission(
        region,
        period,
        {rid: _stored(report, region, rid, period.label) for rid, (_, _, report) in found.items()},
    )


def _check_report(
    report: dict[str, Any], where: str, measures: dict[str, str], tz: Any, issues: list[Issue]
) -> tuple[str, str, str] | None:
    """(report id, region, period label) of a well-formed report; issues appended otherwise."""
    before = len(issues)
    value = next(
        (
            str(i.get("value"))
            for i in report.get("identifier") or []
            if isinstance(i, dict) and i.get("system") == REPORT_IDENTIFIER_SYSTEM
        ),
        "",
    )
    report_id, _, rest = value.partition(":")
    label = rest.partition(":")[0]
    measure = measures.get(str(report.get("measure") or "").split("|")[0])
    if measure is None:
        issues.append(Issue(f"{where}.measure", "known-measure", "not a Measure of this guide"))
    elif report_id != measure:
        issues.append(
            Issue(
                f"{where}.identifier",
                "business-identifier",
                f"identifier {REPORT_IDENTIFIER_SYSTEM}|<id>:<period>:<scope> must name {measure}",
            )
        )
    if report.get("type") != "summary" or report.get("status") != "complete":
        issues.append(Issue(f"{where}.status", "complete-summary", "a complete summary report"))
    reporter = (report.get("reporter") or {}).get("identifier") or {}
    region = str(reporter.get("value") or "")
    if reporter.get("system") != REGION_SYSTEM or not (len(region) == 6 and region.isdigit()):
        issues.append(
            Issue(
                f"{where}.reporter.identifier",
                "reporter-region",
                f"the reporter is the child region: system {REGION_SYSTEM}, a 6-digit code",
            )
        )
    try:
        period = parse_period(label, tz)
        span = report.get("period") or {}
        if span.get("start") != period.start.isoformat(timespec="seconds") or span.get(
            "end"
        ) != period.last_moment.isoformat(timespec="seconds"):
            issues.append(Issue(f"{where}.period", "period", f"must be the period {period.label}"))
        label = period.label
    except Exception:
        issues.append(Issue(f"{where}.identifier", "period-label", "no valid period in identifier"))
    if measure not in (None, QUALITY):
        try:
            read_counts(report)
        except (KeyError, IndexError, TypeError, ValueError):
            issues.append(
                Issue(f"{where}.group", "populations", "populations and strata unreadable")
            )
    if len(issues) > before:
        return None
    return report_id, region, label


def _stored(report: dict[str, Any], region: str, report_id: str, label: str) -> dict[str, Any]:
    """The report as the parent stores it: its own business identifier, no server fields."""
    stored = copy.deepcopy(report)
    stored.pop("id", None)
    profiles = (stored.get("meta") or {}).get("profile")
    stored["meta"] = {"profile": profiles} if profiles else {}
    if not stored["meta"]:
        stored.pop("meta")
    stored["identifier"] = [
        {"system": NETWORK_REPORT_SYSTEM, "value": network_identifier(region, report_id, label)}
    ]
    return stored
