"""Drill-down rows: the stays behind a number, shown as the FHIR door would show them to the role.

Each stay's Encounter is read with ``_elements=identifier`` and passed through the role's view
(mappings/views, facade.privacy.projector): QC sees keyed tokens of the hospital's stay numbers, a hospital sees
its own. Dates are the admission and discharge times in the reporting zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi import FastAPI

from facade.console.grid import Cell, Grid
from facade.console.i18n import Translator
from facade.indicators.members import MemberStay, stays_of
from facade.indicators.periods import parse_period
from facade.indicators.report import find_reports, report_identifier, scope_from_report
from facade.indicators.service import catalog, engine
from facade.security.roles import policy
from facade.services import services_of
from facade.settings import Settings
from facade.upstream import UpstreamClient

_CHUNK = 100


@dataclass
class StaysPage:
    """The stays of one hospital in one population of one indicator (optionally one stratum)."""

    period: str
    org: str
    indicator: str
    population: str
    department: str | None
    month: str | None
    stays: list[MemberStay]
    shown_ids: dict[str, str] = field(default_factory=dict)  # Encounter ref -> id the role sees
    published: int | None = None  # the count in the stored report
    published_at: str | None = None
    truncated: int = 0

    def grid(self, t: Translator, settings: Settings) -> Grid:
        """The list as a table (the export is the same table)."""
        tz = catalog(settings).definitions.rules.tz
        grid = Grid(
            "stays",
            t("stays.title"),
            [
                t("stays.stay"),
                t("stays.fhir_id"),
                t("stays.admitted"),
                t("stays.discharged"),
                t("stays.department"),
                t("stays.populations"),
            ],
        )
        for stay in self.stays:
            grid.add(
                self.shown_ids.get(stay.ref, "—"),
                stay.ref,
                datetime.fromtimestamp(stay.admitted, tz).strftime("%Y-%m-%d %H:%M"),
                datetime.fromtimestamp(stay.discharged, tz).strftime("%Y-%m-%d %H:%M"),
                stay.department_key.partition("/")[2],
                Cell(", ".join(t(f"population.{code}") for code in stay.populations)),
            )
        return grid


async def load_stays(
    settings: Settings,
    upstream: UpstreamClient,
    app: FastAPI,
    *,
    role: str,
    period: str,
    org: str,
    indicator: str,
    population: str,
    department: str | None,
    month: str | None,
) -> StaysPage:
    """Compute the list now and read the published count to compare with."""
    members = await stays_of(
        engine(settings, upstream),
        period,
        org,
        indicator,
        region=settings.indicator_region or None,
    )
    chosen = [
        s
        for s in members
        if population in s.populations
        and (department is None or s.department_key == department)
        and (month is None or s.month == month)
    ]
    limit = settings.console_max_rows
    page = StaysPage(
        period=parse_period(period, catalog(settings).definitions.rules.tz).label,
        org=org,
        indicator=indicator,
        population=population,
        department=department,
        month=month,
        stays=chosen[:limit],
        truncated=max(0, len(chosen) - limit),
    )
    page.shown_ids = await _shown_ids(upstream, app, role, [s.ref for s in page.stays])
    await _published(settings, upstream, page)
    return page


async def _shown_ids(
    upstream: UpstreamClient, app: FastAPI, role: str, refs: list[str]
) -> dict[str, str]:
    projector = services_of(app).projector
    view = policy(role).view
    out: dict[str, str] = {}
    ids = [ref.partition("/")[2] for ref in refs]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        bundle = await upstream.get_json(
            "Encounter",
            {"_id": ",".join(chunk), "_elements": "identifier", "_count": str(len(chunk))},
        )
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") or {}
            shown = projector.project(view, resource) or {}
            identifiers = shown.get("identifier") or []
            if identifiers and identifiers[0].get("value"):
                out[f"Encounter/{resource.get('id')}"] = str(identifiers[0]["value"])
    return out


async def _published(settings: Settings, upstream: UpstreamClient, page: StaysPage) -> None:
    definitions = catalog(settings).definitions
    indicator = definitions.indicators[page.indicator]
    identifier = report_identifier(
        indicator, parse_period(page.period, definitions.rules.tz), page.org
    )
    report = (await find_reports(upstream, [identifier])).get(identifier)
    if report is None:
        return
    scoped = scope_from_report(report)
    counts = scoped.populations
    if page.department:
        counts = scoped.strata.get("discharge-department", {}).get(page.department, {})
    elif page.month:
        counts = scoped.strata.get("discharge-month", {}).get(page.month, {})
    page.published = counts.get(page.population, 0)
    page.published_at = str(report.get("date") or "")
