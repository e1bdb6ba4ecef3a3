"""The data-quality service: what the HTTP API, VTE.DQ.QUERY, the CLI and the web console call.

    service = QualityService(settings, database)
    service.report("2026-Q1", org="12330100...")   # one institution (dict, see README)
    service.report("2026-Q1")                      # the region
    service.rules()                                # the rules catalogue
    service.institutions()                         # the institutions reports cover (code -> name)
    service.workbook("2026-Q1", org=...)           # .xlsx bytes
    service.measure_reports("2026-Q1", org=...)    # FHIR MeasureReports (dicts)
    await service.publish(upstream, "2026-Q1")     # store them in HAPI

Who may see what is decided by ``visible_scope`` before any of these is called.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from facade.db import Database
from facade.errors import Forbidden, InvalidInput, ProtocolRejected
from facade.indicators.report import publish_reports
from facade.native.codes import Code, reject
from facade.native.services import QueryService
from facade.quality import counters
from facade.quality.fhir import build_measure_report
from facade.quality.report import QualityReports
from facade.quality.rules import rule_set
from facade.quality.workbook import build_workbook
from facade.settings import Settings
from facade.upstream import UpstreamClient


class QualityService:
    """Reports from the counters of one facade database."""

    def __init__(
        self, settings: Settings, database: Database, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.reports = QualityReports(rule_set(settings), database, clock=clock)

    def report(self, period: str, org: str | None = None) -> dict[str, Any]:
        """One institution's report, or the region's when ``org`` is None."""
        if org is None:
            return self.reports.region(period)
        return self.reports.institution(period, org)

    def rules(self) -> dict[str, Any]:
        """Every check with its dimension, Kahn category, severity and threshold."""
        return self.reports.rules_catalogue()

    def institutions(self) -> dict[str, str]:
        """The institutions reports cover (code -> name): the registered ones and any with counters."""
        with self.reports.database.session() as session:
            return counters.institutions(session)

    def workbook(self, period: str, org: str | None = None) -> bytes:
        """The report as an Excel workbook (every affected record id listed for an institution)."""
        return build_workbook(self.report(period, org), self.reports, org)

    def measure_reports(self, period: str, org: str | None = None) -> list[dict[str, Any]]:
        """The report as FHIR MeasureReports (profile vte-dq-measurereport): the scope's, and for
        the region every hospital's too."""
        rules = self.reports.rules
        if org is not None:
            return [build_measure_report(self.report(period, org), rules)]
        found = [build_measure_report(self.report(period), rules)]
        found += [
            build_measure_report(d, rules) for d in self.reports.institutions(period).values()
        ]
        return found

    async def publish(
        self, upstream: UpstreamClient, period: str, org: str | None = None
    ) -> list[str]:
        """Store the MeasureReports in HAPI in one transaction, all or none (conditional updates
        by business identifier, like the indicator reports)."""
        return await publish_reports(upstream, self.measure_reports(period, org))


def visible_scope(role: str, own_org: str | None, requested: str | None) -> str | None:
    """The scope a caller may see: QC any institution or the region; a hospital only itself."""
    if role == "qc":
        return requested
    if role == "hospital" and own_org:
        if requested not in (None, own_org):
            raise Forbidden("a hospital may only see its own data-quality report")
        return own_org
    raise Forbidden(f"role {role} may not read data-quality reports")


def native_query(service: QualityService) -> QueryService:
    """VTE.DQ.QUERY: ``{"period": "2026-Q1"}`` → the calling app's institution's report."""

    def query(org_code: str, document: Mapping[str, Any]) -> Mapping[str, Any]:
        unknown = sorted(set(document) - {"period"})
        if unknown:
            raise reject(Code.BAD_BIZ_CONTENT, "仅支持 period 字段", field="bizContent")
        period = document.get("period")
        if not isinstance(period, str):
            raise reject(Code.BAD_BIZ_CONTENT, "period 必填", field="bizContent.period")
        try:
            return service.report(period, org_code)
        except InvalidInput as exc:
            raise _bad_period() from exc

    return query


def _bad_period() -> ProtocolRejected:
    return reject(
        Code.BAD_BIZ_CONTENT,
        "period 须为 YYYY、YYYY-H1/H2、YYYY-Q1..Q4 或 YYYY-MM",
        field="bizContent.period",
    )
