"""A data-quality report as a FHIR MeasureReport (profile ``vte-dq-measurereport``), stored by conditional update.

One report per scope (a hospital or the region) and period, for the Measure ``vte-data-quality``:
a group for the overall score and one per GB/T 36344 dimension, each scored 0–1
(``measureScore`` = score / 100), and in each dimension group a stratifier ``rule`` with one
stratum per applicable check: its denominator, the records *without* the problem as numerator,
and their proportion as the stratum's score — so, as for every proportion in the guide, higher
is better. Business identifier ``DQ:<period>:<scope>``; hospital reports carry the hospital's
tenancy tag.
"""

from __future__ import annotations

from html import escape
from typing import Any

from facade.fhir.naming import CANONICAL, ORG_CODE_SYSTEM, REPORTING_ORG_TAG, profile_url
from facade.indicators.report import (
    IMPROVEMENT_SYSTEM,
    POPULATION_SYSTEM,
    REGION_SYSTEM,
    REPORT_IDENTIFIER_SYSTEM,
)
from facade.indicators.results import REGION
from facade.quality.rules import RuleSet

MEASURE_URL = f"{CANONICAL}/Measure/vte-data-quality"
CODE_SYSTEM = f"{CANONICAL}/CodeSystem/data-quality"
PROFILE = profile_url("vte-dq-measurereport")
PLACES = 6


def report_identifier(period: str, scope: str) -> str:
    """``DQ:2026-Q1:<org code or region>``."""
    return f"DQ:{period}:{scope}"


def _score(points: float | None) -> dict[str, Any] | None:
    return None if points is None else {"value": round(points / 100.0, PLACES)}


def _populations(denominator: int, passing: int) -> list[dict[str, Any]]:
    return [
        {
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": "denominator"}]},
            "count": denominator,
        },
        {
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": "numerator"}]},
            "count": passing,
        },
    ]


def build_measure_report(document: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """The MeasureReport of a report document (``QualityReports.institution`` or ``region``)."""
    org = document.get("orgCode")
    scope = org or REGION
    rows_by_dimension: dict[str, list[dict[str, Any]]] = {}
    for row in document["rules"]:
        if row["denominator"]:
            rows_by_dimension.setdefault(row["dimension"], []).append(row)
    overall: dict[str, Any] = {
        "id": "overall",
        "code": {"coding": [{"system": CODE_SYSTEM, "code": "overall"}], "text": "总体 (overall)"},
    }
    if document["overall"]["score"] is not None:
        overall["measureScore"] = _score(document["overall"]["score"])
    groups = [overall]
    for dimension in document["dimensions"]:
        group: dict[str, Any] = {
            "id": dimension["id"],
            "code": {
                "coding": [{"system": CODE_SYSTEM, "code": dimension["id"]}],
                "text": f"{dimension['zh']} ({dimension['en']})",
            },
        }
        if dimension["score"] is not None:
            group["measureScore"] = _score(dimension["score"])
        # The Measure's groups all have the stratifier: a report must carry it, strata or not.
        stratifier: dict[str, Any] = {
            "code": [{"coding": [{"system": CODE_SYSTEM, "code": "rule"}], "text": "规则 (rule)"}]
        }
        strata = [_stratum(row) for row in rows_by_dimension.get(dimension["id"], [])]
        if strata:
            stratifier["stratum"] = strata
        group["stratifier"] = [stratifier]
        groups.append(group)
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "meta": {"profile": [PROFILE]},
        "identifier": [
            {
                "system": REPORT_IDENTIFIER_SYSTEM,
                "value": report_identifier(document["period"], scope),
            }
        ],
        "status": "complete",
        "type": "summary",
        "measure": MEASURE_URL,
        "date": document["generatedAt"],
        "period": {
            "start": f"{document['periodStart']}T00:00:00{rules.config.timezone}",
            "end": f"{document['periodEnd']}T23:59:59{rules.config.timezone}",
        },
        "improvementNotation": {"coding": [{"system": IMPROVEMENT_SYSTEM, "code": "increase"}]},
        "group": groups,
        "text": _narrative(document),
    }
    if org:
        report["meta"]["tag"] = [{"system": REPORTING_ORG_TAG, "code": org}]
        report["reporter"] = {
            "identifier": {"system": ORG_CODE_SYSTEM, "value": org},
            "display": document.get("orgName") or org,
        }
    else:
        report["reporter"] = {
            "identifier": {"system": REGION_SYSTEM, "value": REGION},
            "display": "区域VTE质控平台 (regional VTE quality-control platform)",
        }
    return report


def _stratum(row: dict[str, Any]) -> dict[str, Any]:
    denominator = int(row["denominator"])
    passing = denominator - int(row["numerator"])
    return {
        "value": {"text": row["id"]},
        "population": _populations(denominator, passing),
        "measureScore": {"value": round(passing / denominator, PLACES)},
    }


def _narrative(document: dict[str, Any]) -> dict[str, str]:
    who = document.get("orgName") or document.get("orgCode") or "区域 (region)"
    overall = document["overall"]
    shown = "—" if overall["score"] is None else f"{overall['score']:.2f} ({overall['grade']})"
    cells = "".join(
        f"<td>{escape(d['zh'])}: {'—' if d['score'] is None else format(d['score'], '.2f')}</td>"
        for d in document["dimensions"]
    )
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        f"<p>数据质量 (data quality), {escape(document['period'])}, {escape(str(who))}: "
        f"<b>{escape(shown)}</b></p><table><tr>{cells}</tr></table></div>"
    )
    return {"status": "generated", "div": div}
