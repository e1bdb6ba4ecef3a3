"""The data-quality page's tables and charts, built from one ``QualityService.report`` document.

Every number shown is the report's own (scores in points, rates turned into percent with two
decimals), so a table's Excel export and a chart's series can be compared with the report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from facade.console.charts import ranked_bars
from facade.console.grid import Cell, Grid
from facade.console.i18n import Translator

_COLOURS = ["#2f6fb0", "#9fb3c8", "#c0392b"]


def percent(rate: float | None) -> float | None:
    """A problem rate (0-1) in percent, two decimals."""
    return None if rate is None else round(rate * 100, 2)


def _figure(value: float | int | None) -> Cell:
    return Cell("—" if value is None else value, numeric=True)


def _label(t: Translator, named: dict[str, Any]) -> str:
    """A name the report gives in both languages (``{"zh": ..., "en": ...}``)."""
    return str(named["zh"] if t.language == "zh-CN" else named["en"])


def dimension_names(document: dict[str, Any], t: Translator) -> dict[str, str]:
    """Dimension id -> its name in the page's language."""
    return {d["id"]: _label(t, d) for d in document["dimensions"]}


def _affected(problem: dict[str, Any], t: Translator, names: dict[str, str]) -> str:
    """What a problem touches: record ids grouped by type, days, or (region) hospitals."""
    if "hospitals" in problem:
        parts = [
            f"{names.get(h['orgCode'], h['orgCode'])} ({h['count']})" for h in problem["hospitals"]
        ]
        return "; ".join(parts)
    if "dates" in problem:
        text = ", ".join(problem["dates"])
    else:
        by_type: dict[str, list[str]] = {}
        for record in problem["records"]:
            by_type.setdefault(record["recordType"], []).append(record["recordId"])
        text = "; ".join(f"{kind}: {', '.join(ids)}" for kind, ids in by_type.items())
    if problem["more"]:
        text += " " + t("dq.more", n=problem["more"])
    return text


def grids(document: dict[str, Any], t: Translator) -> dict[str, Grid]:
    """The page's tables (the Excel export of each is the same Grid)."""
    names = {h["orgCode"]: h["name"] for h in document.get("hospitals", [])}
    dims = dimension_names(document, t)
    out: dict[str, Grid] = {}
    dimensions = Grid(
        "dimensions",
        t("dq.dimensions"),
        [
            t("dq.dimension"),
            t("dq.score"),
            t("dq.previous", period=document["previousPeriod"]),
            t("dq.change"),
            t("dq.passed"),
            t("dq.failed"),
            t("dq.not_applicable"),
        ],
    )
    for d in document["dimensions"]:
        dimensions.add(
            dims[d["id"]],
            _figure(d["score"]),
            _figure(d["previous"]),
            _figure(d["trend"]),
            d["passed"],
            d["failed"],
            d["notApplicable"],
        )
    overall = document["overall"]
    dimensions.add(
        t("dq.overall_grade", grade=overall["grade"] or "—"),
        _figure(overall["score"]),
        _figure(overall["previous"]),
        _figure(overall["trend"]),
        Cell(None),
        Cell(None),
        Cell(None),
    )
    out["dimensions"] = dimensions
    if document["kind"] == "region":
        out["hospitals"] = _hospitals(document, t, dims)
    out["problems"] = _problems(document, t, dims, names)
    timeliness = Grid(
        "timeliness",
        t("dq.timeliness"),
        [
            t("dq.rule"),
            t("dq.deadline_days"),
            t("dq.records"),
            t("dq.late"),
            t("dq.within_deadline"),
            t("dq.median_days"),
            t("dq.p90_days"),
        ],
    )
    for lag in document["timeliness"]:
        timeliness.add(
            lag["rule"],
            lag["deadlineDays"],
            lag["records"],
            lag["late"],
            _figure(percent(lag["withinDeadline"])),
            _figure(lag["medianDays"]),
            _figure(lag["p90Days"]),
        )
    out["timeliness"] = timeliness
    refusals = Grid(
        "refusals", t("dq.refusals"), [t("dq.code"), t("dq.refusal_rule"), t("dq.records")]
    )
    for refusal in document["refusals"]:
        refusals.add(refusal["code"], refusal["rule"], refusal["count"])
    out["refusals"] = refusals
    return out


def _hospitals(document: dict[str, Any], t: Translator, dims: dict[str, str]) -> Grid:
    grid = Grid(
        "hospitals",
        t("dq.hospitals"),
        [
            t("dq.rank"),
            t("indicators.org_code"),
            t("indicators.hospital"),
            t("dq.overall"),
            t("dq.grade"),
            *dims.values(),
            t("dq.previous", period=document["previousPeriod"]),
            t("dq.change"),
            t("dq.failed_rules"),
            t("dq.records"),
        ],
    )
    for h in document["hospitals"]:
        link = "?" + urlencode({"period": document["period"], "org": h["orgCode"]})
        grid.add(
            _figure(h["rank"]),
            Cell(h["orgCode"], href=link),
            h["name"],
            _figure(h["overall"]),
            h["grade"] or "—",
            *(_figure(h["dimensions"][d]) for d in dims),
            _figure(h["previous"]),
            _figure(h["trend"]),
            h["failedRules"],
            h["records"],
        )
    return grid


def _problems(
    document: dict[str, Any], t: Translator, dims: dict[str, str], names: dict[str, str]
) -> Grid:
    region = document["kind"] == "region"
    grid = Grid(
        "problems",
        t("dq.problems"),
        [
            t("dq.rule"),
            t("dq.rule_name"),
            t("dq.dimension"),
            t("dq.severity"),
            t("dq.status"),
            t("dq.count"),
            t("dq.denominator"),
            t("dq.rate"),
            t("dq.threshold"),
            t("dq.hospitals_affected") if region else t("dq.records_affected"),
        ],
        note=None if region else t("dq.records_note"),
    )
    for p in document["topProblems"]:
        grid.add(
            Cell(p["rule"], wrap=True),
            Cell(_label(t, p["name"]), wrap=True),
            dims[p["dimension"]],
            t(f"dq.severity_{p['severity']}"),
            t(f"dq.status_{p['status']}"),
            p["count"],
            p["denominator"],
            _figure(percent(p["rate"])),
            _figure(percent(p["threshold"])),
            Cell(_affected(p, t, names), wrap=True),
        )
    return grid


def _axis_floor(values: Iterable[float | None]) -> int:
    """A value axis from the tens below the lowest score, so close scores stay apart (0 at least)."""
    present = [v for v in values if v is not None]
    return 0 if not present else max(0, int(math.floor((min(present) - 5) / 10) * 10))


def hospitals_option(document: dict[str, Any], t: Translator) -> dict[str, Any]:
    """Every hospital's overall score as sorted bars (best on top), the region's score marked."""
    bars = [h for h in document["hospitals"] if h["overall"] is not None]
    bars.sort(key=lambda h: (-h["overall"], h["orgCode"]))
    region = document["overall"]["score"]
    values = [h["overall"] for h in bars]
    return ranked_bars(
        [h["name"] for h in bars],
        values,
        region,
        t,
        name=t("dq.overall"),
        unit="",
        axis_name=t("dq.points"),
        axis_min=_axis_floor([*values, region]),
    )


def dimensions_option(document: dict[str, Any], t: Translator) -> dict[str, Any]:
    """Each dimension's score this period beside the previous period's."""
    dims = document["dimensions"]
    now = [d["score"] for d in dims]
    before = [d["previous"] for d in dims]
    return {
        "color": _COLOURS,
        "animation": False,
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "category", "data": [_label(t, d) for d in dims]},
        "yAxis": {"type": "value", "min": _axis_floor(now + before), "max": 100},
        "series": [
            {
                "id": "current",
                "name": document["period"],
                "type": "bar",
                "data": now,
                "label": {"show": True, "position": "top"},
            },
            {"id": "previous", "name": document["previousPeriod"], "type": "bar", "data": before},
        ],
    }
