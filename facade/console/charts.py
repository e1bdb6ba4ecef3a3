"""ECharts options built in Python from the page data; the browser only draws them.

The series values are the published scores in percent (two decimals), so a test can read them
back from the chart (``echarts.getInstanceByDom(el).getOption()``) and compare with the reports.
"""

from __future__ import annotations

from typing import Any

from facade.console.i18n import Translator
from facade.console.indicator_data import IndicatorPage

_COLOURS = ["#2f6fb0", "#d9822b", "#3a8f5c", "#9c4f96"]


def trend_option(page: IndicatorPage, t: Translator) -> dict[str, Any]:
    """A line of the selected indicator's score over the periods ending with the page's."""
    name = page.selected.name.zh if t.language == "zh-CN" else page.selected.name.en
    return {
        "color": _COLOURS,
        "animation": False,
        "grid": {"left": 48, "right": 16, "top": 32, "bottom": 32},
        "xAxis": {"type": "category", "data": [period for period, _ in page.trend]},
        "yAxis": {"type": "value", "name": "%", "min": 0, "max": 100},
        "series": [
            {
                "id": "score",
                "name": f"{page.selected.id} {name}",
                "type": "line",
                "connectNulls": False,
                "data": [figure.percent if figure else None for _, figure in page.trend],
                "label": {"show": True, "formatter": "{c}%"},
            }
        ],
    }


def hospitals_option(page: IndicatorPage, t: Translator) -> dict[str, Any]:
    """Hospitals' scores as sorted horizontal bars, the regional value marked by a line."""
    bars = [s for s in page.hospitals if s.figure.percent is not None]
    region = page.region_figure.percent if page.region_figure else None
    return ranked_bars(
        [s.label for s in bars],
        [s.figure.percent for s in bars],
        region,
        t,
        name=t("indicators.score"),
        unit="%",
    )


def ranked_bars(
    labels: list[str],
    values: list[float | None],
    region: float | None,
    t: Translator,
    *,
    name: str,
    unit: str,
    axis_name: str | None = None,
    axis_min: float = 0,
) -> dict[str, Any]:
    """Scores as horizontal bars, best first, the region's value marked by a dashed line.

    ``labels``/``values`` come best first; ECharts draws the first category at the bottom, so
    they are reversed to put the best at the top.
    """
    series: dict[str, Any] = {
        "id": "hospitals",
        "name": name,
        "type": "bar",
        "data": values[::-1],
        "label": {"show": True, "position": "right", "formatter": f"{{c}}{unit}"},
        "barMaxWidth": 18,
    }
    if region is not None:
        series["markLine"] = {
            "symbol": "none",
            "label": {"formatter": f"{t('indicators.region')} {{c}}{unit}"},
            "lineStyle": {"type": "dashed", "color": "#c0392b"},
            "data": [{"name": t("indicators.region"), "xAxis": region}],
        }
    return {
        "color": _COLOURS,
        "animation": False,
        "grid": {"left": 8, "right": 56, "top": 24, "bottom": 24, "containLabel": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "value", "min": axis_min, "max": 100, "name": axis_name or unit},
        "yAxis": {"type": "category", "data": labels[::-1]},
        "series": [series],
    }
