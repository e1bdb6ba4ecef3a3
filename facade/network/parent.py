"""The parent's side of the network: receive children's reports and linkage, publish the area, benchmark.

Every submission is checked against the child's registration (its client may report only for its
own region codes) and against the parent's closed periods (facade/periods: a closed period takes
nothing new), stored idempotently (a re-sent submission with the same content is a no-op; reports
are conditional updates on ``<region>:<indicator>:<period>``), and then the area's reports of the
period are recomputed (facade/network/aggregate.py) and published in one transaction. An area
report is ``pending`` while a registered region's data is missing or its linkage answers an older
attribution, and ``complete`` once every region is in.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import Conflict, Forbidden, InvalidInput, Issue
from facade.indicators.periods import Period, parse_period
from facade.indicators.report import build_report, publish_reports, region_key
from facade.indicators.results import Counts, score
from facade.indicators.service import catalog
from facade.network.aggregate import ChildReport, area_results
from facade.network.keys import linkage_check, stored_person
from facade.network.linkage import (
    LinkageSubmission,
    link,
    linked_populations,
    summary,
)
from facade.network.regions import RegionRegistry
from facade.network.submit import QUALITY, ReportSubmission, parse_submission
from facade.network.tables import NetworkSubmission
from facade.periods.locks import REGION as WHOLE_REGION, closed_ranges
from facade.settings import Settings
from facade.upstream import UpstreamClient

REPORTS, LINKAGE, AREA = "reports", "linkage", "area"
AREA_ROW = "area"  # the region column of the parent's own record of what it published


@dataclass
class AreaStatus:
    """What the area's reports of a period rest on."""

    period: str
    status: str  # complete | pending | empty
    reasons: list[str] = field(default_factory=list)
    published: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "period": self.period,
            "status": self.status,
            "reasons": self.reasons,
            "published": self.published,
        }


class ParentService:
    """Children's submissions, the area's aggregation and the benchmarks of one parent facade."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        upstream: UpstreamClient,
        regions: RegionRegistry,
    ) -> None:
        self.settings = settings
        self.database = database
        self.upstream = upstream
        self.regions = regions
        self._lock = asyncio.Lock()  # one aggregation at a time per process

    @property
    def area_key(self) -> str:
        """Scope key of the area's reports (what this facade's console shows as its region)."""
        return region_key(self.settings.indicator_region or None)

    # -- checks shared by every submission

    def _own_region(self, client_id: str, region: str, location: str) -> None:
        if region not in self.regions.of_client(client_id):
            raise Forbidden(
                f"region {region} is not registered for client {client_id}",
                issues=[
                    Issue(location, "registered-region", f"{region} is not this client's region")
                ],
            )

    def _open(self, period: Period) -> None:
        with self.database.session() as session:
            ranges = closed_ranges(session, WHOLE_REGION).ranges
        for label, start, end in ranges:
            if start < period.end and period.start < end:
                raise Conflict(
                    f"period {period.label} is closed at this platform ({label}); nothing new is taken",
                    issues=[Issue("period", "closed-period", f"{label} was closed by QC")],
                )

    # -- reports ($submit-data)

    async def submit_reports(self, client_id: str, body: Any) -> dict[str, Any]:
        """Store a region's reports of a period; answer what happened and the area's status."""
        definitions = catalog(self.settings).definitions
        submission = parse_submission(body, definitions)
        self._own_region(client_id, submission.region, "MeasureReport.reporter")
        self._open(submission.period)
        digest = submission.digest()
        stored = await asyncio.to_thread(
            self._row, submission.region, submission.period.label, REPORTS
        )
        if stored is not None and stored.digest == digest:
            area = await self.area_status(submission.period)
            return _receipt("unchanged", submission.region, submission.period.label, 0, area)
        self._no_overlap(submission)
        ids = await publish_reports(self.upstream, list(submission.reports.values()))
        await asyncio.to_thread(
            self._keep,
            submission.region,
            submission.period.label,
            REPORTS,
            digest,
            _counts(submission),
        )
        area = await self.aggregate(submission.period.label)
        return _receipt("stored", submission.region, submission.period.label, len(ids), area)

    def _no_overlap(self, submission: ReportSubmission) -> None:
        """A hospital is in one region: refuse reports naming another region's hospital."""
        mine = set(_hospitals(_counts(submission)))
        with self.database.session() as session:
            rows = session.scalars(
                select(NetworkSubmission).where(
                    NetworkSubmission.period == submission.period.label,
                    NetworkSubmission.kind == REPORTS,
                    NetworkSubmission.region != submission.region,
                )
            )
            for row in rows:
                shared = mine & set(_hospitals(orjson.loads(row.body)))
                if shared:
                    raise Conflict(
                        f"hospital {sorted(shared)[0]} is already reported by region {row.region}",
                        issues=[
                            Issue("MeasureReport.group.stratifier", "one-region-per-hospital", "")
                        ],
                    )

    # -- linkage

    async def put_linkage(self, client_id: str, period: str, body: Any) -> dict[str, Any]:
        """Store a region's linkage data of a period; answer its attributed stays."""
        span = parse_period(period, catalog(self.settings).definitions.rules.tz)
        try:
            part = LinkageSubmission.model_validate(body)
        except ValueError as exc:
            raise InvalidInput("linkage data refused", issues=_pydantic_issues(exc)) from exc
        if part.period != span.label:
            raise InvalidInput(
                "linkage data refused",
                issues=[
                    Issue(
                        "period", "same-period", f"the body is for {part.period}, not {span.label}"
                    )
                ],
            )
        self._own_region(client_id, part.region, "region")
        self._open(span)
        expected = linkage_check(self.settings.secret("linkage_key"))
        if part.key_check != expected:
            raise Conflict(
                "linkage data refused: computed with another linkage key than this province's",
                issues=[
                    Issue(
                        "keyCheck",
                        "province-linkage-key",
                        f"key check {part.key_check} differs from the parent's {expected}; "
                        "set VTE_LINKAGE_KEY to the province's key",
                    )
                ],
            )
        kept = _rekeyed(part, self.settings.secret("pseudonym_key"))
        digest = kept.digest()
        stored = await asyncio.to_thread(self._row, part.region, span.label, LINKAGE)
        received = "unchanged" if stored is not None and stored.digest == digest else "stored"
        if received == "stored":
            await asyncio.to_thread(
                self._keep,
                part.region,
                span.label,
                LINKAGE,
                digest,
                kept.model_dump(mode="json", by_alias=True),
            )
            await self.aggregate(span.label)
        return await self.linkage_answer(client_id, part.region, span.label, received)

    async def linkage_answer(
        self, client_id: str, region: str, period: str, received: str = "read"
    ) -> dict[str, Any]:
        """What the parent needs from a region for a period: the stays it attributed post-discharge
        events to, the version the details must answer, and whether they do."""
        self._own_region(client_id, region, "region")
        span = parse_period(period, catalog(self.settings).definitions.rules.tz)
        parts = await asyncio.to_thread(self._linkage_parts, span.label)
        linkage = link(parts, span, catalog(self.settings).definitions.rules)
        mine = parts.get(region)
        return {
            "region": region,
            "period": span.label,
            "received": received,
            "attributed": linkage.attributed.get(region, []),
            "version": linkage.versions.get(region),
            "complete": mine is not None and linkage.complete(region, mine.answers),
            "counts": summary(mine) if mine is not None else None,
            "area": (await self.area_status(span)).as_dict(),
        }

    # -- the area

    async def area_status(self, period: Period) -> AreaStatus:
        """The status of the area's last published reports of a period."""
        row = await asyncio.to_thread(self._row, AREA_ROW, period.label, AREA)
        if row is None:
            return AreaStatus(period.label, "empty", ["nothing published for this period yet"])
        body = orjson.loads(row.body)
        return AreaStatus(period.label, body["status"], body["reasons"], len(body["indicators"]))

    async def aggregate(self, period: str) -> AreaStatus:
        """Recompute the area's reports of a period and publish them (only when they changed)."""
        async with self._lock:
            return await self._aggregate(period)

    async def _aggregate(self, period: str) -> AreaStatus:
        definitions = catalog(self.settings).definitions
        span = parse_period(period, definitions.rules.tz)
        regions = await asyncio.to_thread(self.regions.enabled)
        reports_rows = await asyncio.to_thread(self._rows, span.label, REPORTS)
        parts = await asyncio.to_thread(self._linkage_parts, span.label)
        linked = linked_populations(definitions)
        reasons: list[str] = []
        reports: dict[str, dict[str, ChildReport]] = {}
        for region in regions:
            body = reports_rows.get(region.code)
            if body is None:
                reasons.append(f"region {region.code} has not submitted its reports")
            else:
                reports[region.code] = {
                    i: ChildReport(c["populations"], c["strata"], c["names"])
                    for i, c in body["indicators"].items()
                }
        enabled = {r.code for r in regions}
        parts = {code: part for code, part in parts.items() if code in enabled}
        linkage = link(parts, span, definitions.rules)
        if linked:
            for region in regions:
                part = parts.get(region.code)
                if part is None:
                    reasons.append(f"region {region.code} has not submitted its linkage data")
                elif not linkage.complete(region.code, part.answers):
                    reasons.append(f"region {region.code} has not answered the latest attribution")
        if not reports:
            return AreaStatus(span.label, "empty", reasons)
        status = "pending" if reasons else "complete"
        results = area_results(definitions, span.label, reports, linkage, linked)
        names = {r.code: r.name for r in regions}
        for found in reports.values():
            for report in found.values():
                names.update(report.names)
        # The Measure declares hospital, department and month only (HAPI checks a report's
        # stratifiers against it), so the child-region strata stay in the area record below.
        built = [
            build_report(
                definitions.indicators[i],
                result,
                span,
                org=None,
                region=self.area_key,
                org_names=names,
                status=status,
            )
            for i, result in results.items()
        ]
        record = {
            "status": status,
            "reasons": reasons,
            "indicators": {i: r.region.as_dict() for i, r in results.items()},
        }
        digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()
        previous = await asyncio.to_thread(self._row, AREA_ROW, span.label, AREA)
        if previous is None or previous.digest != digest:
            await publish_reports(self.upstream, built)
            await asyncio.to_thread(self._keep, AREA_ROW, span.label, AREA, digest, record)
        return AreaStatus(span.label, status, reasons, len(built))

    async def publish_area(self, period: str) -> int | None:
        """The indicator refresher's hook: a parent republishes its area by aggregation (None:
        this facade has no child regions, so it evaluates its own hospitals as usual)."""
        if not await asyncio.to_thread(self.regions.enabled):
            return None
        return (await self.aggregate(period)).published

    # -- benchmarks

    async def benchmarks(self, period: str) -> dict[str, Any]:
        """The area's value and hospital percentile bands per indicator (small cells withheld)."""
        definitions = catalog(self.settings).definitions
        span = parse_period(period, definitions.rules.tz)
        row = await asyncio.to_thread(self._row, AREA_ROW, span.label, AREA)
        record = orjson.loads(row.body) if row is not None else None
        indicators = []
        for indicator in definitions.indicators.values():
            scoped = (record or {}).get("indicators", {}).get(indicator.id)
            if scoped is None:
                continue
            indicators.append(
                {
                    "id": indicator.id,
                    **self._bands(scoped["populations"], scoped["strata"].get("hospital", {})),
                }
            )
        return {
            "period": span.label,
            "status": record["status"] if record else "empty",
            "reasons": record["reasons"] if record else [],
            "area": self.area_key,
            "minDenominator": self.settings.network_benchmark_min_denominator,
            "minHospitals": self.settings.network_benchmark_min_hospitals,
            "indicators": indicators,
        }

    def _bands(self, populations: Counts, hospitals: dict[str, Counts]) -> dict[str, Any]:
        value = score(populations)
        excluded = populations.get("denominator-exclusion", 0)
        eligible = [
            float(s)
            for counts in hospitals.values()
            if counts.get("denominator", 0) - counts.get("denominator-exclusion", 0)
            >= self.settings.network_benchmark_min_denominator
            and (s := score(counts)) is not None
        ]
        out: dict[str, Any] = {
            "value": None if value is None else round(float(value), 6),
            "numerator": populations.get("numerator", 0),
            "denominator": populations.get("denominator", 0) - excluded,
            "hospitals": len(eligible),
            "bands": None,
        }
        if len(eligible) >= max(self.settings.network_benchmark_min_hospitals, 2):
            p25, p50, p75 = statistics.quantiles(eligible, n=4, method="inclusive")
            out["bands"] = {"p25": round(p25, 6), "p50": round(p50, 6), "p75": round(p75, 6)}
        else:
            out["withheld"] = (
                f"fewer than {self.settings.network_benchmark_min_hospitals} hospitals with a "
                f"denominator of at least {self.settings.network_benchmark_min_denominator}"
            )
        return out

    # -- storage

    def _row(self, region: str, period: str, kind: str) -> NetworkSubmission | None:
        with self.database.session() as session:
            row = session.get(NetworkSubmission, (region, period, kind))
            if row is not None:
                session.expunge(row)
            return row

    def _rows(self, period: str, kind: str) -> dict[str, Any]:
        with self.database.session() as session:
            rows = session.scalars(
                select(NetworkSubmission).where(
                    NetworkSubmission.period == period, NetworkSubmission.kind == kind
                )
            )
            return {row.region: orjson.loads(row.body) for row in rows}

    def _linkage_parts(self, period: str) -> dict[str, LinkageSubmission]:
        return {
            region: LinkageSubmission.model_validate(body)
            for region, body in self._rows(period, LINKAGE).items()
        }

    def _keep(self, region: str, period: str, kind: str, digest: str, body: Any) -> None:
        now = utcnow()
        with self.database.session() as session:
            row = session.get(NetworkSubmission, (region, period, kind))
            text = orjson.dumps(body).decode()
            if row is None:
                session.add(
                    NetworkSubmission(
                        region=region,
                        period=period,
                        kind=kind,
                        digest=digest,
                        body=text,
                        received_at=now,
                        updated_at=now,
                    )
                )
            else:
                row.digest, row.body, row.updated_at = digest, text, now

    def submissions(self) -> list[dict[str, Any]]:
        """What each region sent, per period (``vte-facade region list``)."""
        with self.database.session() as session:
            rows = session.scalars(
                select(NetworkSubmission).order_by(
                    NetworkSubmission.period.desc(),
                    NetworkSubmission.region,
                    NetworkSubmission.kind,
                )
            )
            return [
                {
                    "region": r.region,
                    "period": r.period,
                    "kind": r.kind,
                    "receivedAt": _iso(r.received_at),
                    "updatedAt": _iso(r.updated_at),
                }
                for r in rows
            ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _counts(submission: ReportSubmission) -> dict[str, Any]:
    """What the aggregation needs of a region's reports (the reports themselves are in HAPI)."""
    indicators = {}
    for report_id, report in submission.reports.items():
        if report_id == QUALITY:
            continue
        child = ChildReport.of(report)
        indicators[report_id] = {
            "populations": child.populations,
            "strata": child.strata,
            "names": child.names,
        }
    return {"indicators": indicators, "quality": QUALITY in submission.reports}


def _hospitals(body: dict[str, Any]) -> list[str]:
    return sorted(
        {h for found in body["indicators"].values() for h in found["strata"].get("hospital", {})}
    )


def _rekeyed(part: LinkageSubmission, key: bytes) -> LinkageSubmission:
    """The submission with every province pseudonym re-keyed under the parent's own key."""
    return part.model_copy(
        update={
            "events": [
                e.model_copy(update={"person": stored_person(e.person, key)}) for e in part.events
            ],
            "discharges": [
                d.model_copy(update={"person": stored_person(d.person, key)})
                for d in part.discharges
            ],
        }
    )


def _receipt(
    received: str, region: str, period: str, stored: int, area: AreaStatus
) -> dict[str, Any]:
    return {
        "received": received,
        "region": region,
        "period": period,
        "reports": stored,
        "area": area.as_dict(),
    }


def _pydantic_issues(exc: ValueError) -> list[Issue]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [Issue("(body)", "linkage-data", str(exc)[:200])]
    return [
        Issue(
            ".".join(str(p) for p in error["loc"]) or "(body)",
            "linkage-data",
            str(error["msg"])[:200],
        )
        for error in errors()[:20]
    ]
