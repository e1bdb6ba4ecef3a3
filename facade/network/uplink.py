"""The child's side of the network: register at the parent, push a period's reports and linkage data.

A push is one period: the region's summary MeasureReports (every indicator, evaluated afresh over
this platform's hospitals) and its data-quality report go up in one ``Measure/$submit-data``; then
the linkage data (facade/network/linkage.py) in up to two rounds, the second answering the stays
the parent attributed post-discharge events to. Every push is recorded (``uplink_push``: what was
sent, when, what the parent answered). Periods wait in ``uplink_outbox`` until the parent has
taken them; a failed push is retried with a growing wait, so a child that was offline catches up
by itself on the first round after the parent is reachable again. The parent makes a re-sent
period a no-op, so pushing again is always safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import orjson
from sqlalchemy import select

from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import ConfigurationError, Issue
from facade.indicators.periods import parse_period
from facade.indicators.report import REGION_SYSTEM, REPORT_IDENTIFIER_SYSTEM, build_report
from facade.indicators.service import catalog, engine
from facade.native.tables import NativeOrg
from facade.network.keys import ASSERTION_ALG, load_assertion_key
from facade.network.linkage import Collector, linked_populations
from facade.network.recorder import LinkageRecorder
from facade.network.regions import REGION_SCOPES
from facade.network.tables import UplinkBenchmark, UplinkOutbox, UplinkPush
from facade.quality import fhir as dq_fhir
from facade.quality.service import QualityService
from facade.settings import Settings
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.network.uplink")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Linkage rounds of one push: send, then answer the stays the parent attributed events to.
LINKAGE_ROUNDS = 3
HttpFactory = Callable[[], httpx.AsyncClient]


class ParentAnswer(Exception):
    """The parent refused a request (``refused``) or could not be reached (``unreachable``)."""

    def __init__(self, outcome: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.status = status


@dataclass
class PushResult:
    """What one push sent and what the parent answered."""

    period: str
    outcome: str  # accepted | unchanged | refused | unreachable | failed
    http_status: int | None = None
    sent: dict[str, Any] = field(default_factory=dict)
    answer: Any = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "period": self.period,
            "outcome": self.outcome,
            "httpStatus": self.http_status,
            "sent": self.sent,
            "answer": self.answer,
        }


class Uplink:
    """This platform as a child of its parent facade."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        upstream: UpstreamClient,
        quality: QualityService,
        audit: AuditLog | None = None,
        *,
        http: HttpFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.database = database
        self.upstream = upstream
        self.quality = quality
        self.audit = audit
        self._http = http or (lambda: httpx.AsyncClient(timeout=settings.uplink_timeout_seconds))
        self.clock = clock
        self._lock = asyncio.Lock()

    # -- configuration

    @property
    def configured(self) -> bool:
        """Whether a parent, a region code and a client id are all set."""
        s = self.settings
        return bool(s.uplink_parent_url and s.uplink_region_code and s.uplink_client_id)

    def check_configured(self) -> None:
        """ConfigurationError naming every missing setting."""
        missing = [
            Issue(f"VTE_{name.upper()}", "required", f"{name} is needed to report upward")
            for name in ("uplink_parent_url", "uplink_region_code", "uplink_client_id")
            if not getattr(self.settings, name)
        ]
        if missing:
            raise ConfigurationError(
                "the uplink is not configured: " + ", ".join(i.location for i in missing),
                issues=missing,
            )

    # -- talking to the parent

    def _assertion(self) -> str:
        s = self.settings
        # Real time, not ``self.clock`` (which schedules): the parent checks exp against its own.
        now = int(time.time())
        claims = {
            "iss": s.uplink_client_id,
            "sub": s.uplink_client_id,
            "aud": f"{s.uplink_parent_url}/auth/token",
            "exp": now + 240,
            "iat": now,
            "jti": uuid.uuid4().hex,
        }
        key = load_assertion_key(s.uplink_key_pem())
        return jwt.encode(claims, key, algorithm=ASSERTION_ALG, headers={"kid": s.uplink_key_id})

    async def _token(self, http: httpx.AsyncClient) -> str:
        answer = await self._call(
            http,
            "POST",
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._assertion(),
                "scope": REGION_SCOPES,
            },
        )
        return str(answer["access_token"])

    async def _call(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
        url = self.settings.uplink_parent_url + path
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ParentAnswer("unreachable", f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ParentAnswer("unreachable", _explain(response), response.status_code)
        if response.status_code >= 400:
            raise ParentAnswer("refused", _explain(response), response.status_code)
        return response.json()

    # -- what goes up

    async def reports(self, period: str) -> list[dict[str, Any]]:
        """The region's summary reports of a period: every indicator and data quality."""
        definitions = catalog(self.settings).definitions
        region = self.settings.uplink_region_code
        run = await engine(self.settings, self.upstream).evaluate(
            period, orgs=self.settings.indicator_region or None
        )
        names = await asyncio.to_thread(self._org_names)
        reports = [
            build_report(
                definitions.indicators[i],
                result,
                run.period,
                org=None,
                region=region,
                org_names=names,
            )
            for i, result in run.results.items()
        ]
        quality = (await asyncio.to_thread(self.quality.measure_reports, run.period.label))[0]
        quality["reporter"] = {"identifier": {"system": REGION_SYSTEM, "value": region}}
        quality["identifier"] = [
            {
                "system": REPORT_IDENTIFIER_SYSTEM,
                "value": dq_fhir.report_identifier(run.period.label, region),
            }
        ]
        return [*reports, quality]

    def _org_names(self) -> dict[str, str]:
        with self.database.session() as session:
            return {o.org_code: o.name for o in session.scalars(select(NativeOrg))}

    # -- a push

    async def push(self, period: str, reason: str = "manual") -> PushResult:
        """Push one period now; record it; leave it in the outbox unless the parent took it."""
        self.check_configured()
        label = parse_period(period, catalog(self.settings).definitions.rules.tz).label
        async with self._lock:
            await asyncio.to_thread(self._queue, [label], reason)
            started = utcnow()
            result = PushResult(label, "failed")
            try:
                async with self._http() as http:
                    await self._push(http, label, result)
            except ParentAnswer as exc:
                result.outcome, result.http_status = exc.outcome, exc.status
                result.answer = _readable(str(exc))
            except Exception as exc:  # recorded, retried; the loop must not die of one period
                log.exception("uplink push of %s failed", label)
                result.outcome, result.answer = "failed", repr(exc)[:2000]
            await asyncio.to_thread(self._record, result, started)
            await asyncio.to_thread(self._audit, result)
            return result

    async def _push(self, http: httpx.AsyncClient, period: str, result: PushResult) -> None:
        token = await self._token(http)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        reports = await self.reports(period)
        body = {
            "resourceType": "Parameters",
            "parameter": [{"name": "measureReport", "resource": r} for r in reports],
        }
        result.sent["reports"] = len(reports)
        receipt = await self._call(
            http, "POST", "/fhir/Measure/$submit-data", content=orjson.dumps(body), headers=headers
        )
        result.answer = {"reports": receipt}
        result.http_status = 200
        outcomes = [receipt["received"]]
        recorder = LinkageRecorder.for_settings(self.settings, self.database)
        if recorder is not None and linked_populations(catalog(self.settings).definitions):
            collector = Collector(self.settings, self.upstream, recorder, period)
            await collector.prepare()
            # Start from the parent's current answer, so a re-sent period whose data did not
            # change sends exactly what the parent holds (its last round) and changes nothing.
            current = await self._call(
                http,
                "GET",
                f"/network/v1/linkage/{period}",
                params={"region": self.settings.uplink_region_code},
                headers=headers,
            )
            attributed: list[str] = list(current.get("attributed") or [])
            answers: str | None = current.get("version") if current.get("counts") else None
            for _ in range(LINKAGE_ROUNDS):
                part = await collector.submission(attributed, answers)
                answer = await self._call(
                    http,
                    "PUT",
                    f"/network/v1/linkage/{period}",
                    content=part.model_dump_json(by_alias=True),
                    headers=headers,
                )
                outcomes.append(answer["received"])
                result.sent["linkage"] = answer["counts"]
                result.answer["linkage"] = {k: v for k, v in answer.items() if k != "attributed"}
                if answer["complete"]:
                    break
                attributed, answers = answer["attributed"], answer["version"]
        result.outcome = "accepted" if "stored" in outcomes else "unchanged"

    # -- the outbox

    def _queue(self, periods: list[str], reason: str) -> None:
        now = utcnow()
        with self.database.session() as session:
            for period in periods:
                row = session.get(UplinkOutbox, period)
                if row is None:
                    session.add(
                        UplinkOutbox(
                            period=period,
                            state="pending",
                            reason=reason,
                            queued_at=now,
                            attempts=0,
                            next_attempt_at=now,
                            updated_at=now,
                        )
                    )
                elif row.state != "pending":
                    row.state, row.reason, row.next_attempt_at, row.updated_at = (
                        "pending",
                        reason,
                        now,
                        now,
                    )

    def enqueue(self, periods: list[str], reason: str = "schedule") -> None:
        """Ask for these periods to be pushed on the loop's next round."""
        tz = catalog(self.settings).definitions.rules.tz
        self._queue([parse_period(p, tz).label for p in periods], reason)

    def _record(self, result: PushResult, started: datetime) -> None:
        now = utcnow()
        with self.database.session() as session:
            session.add(
                UplinkPush(
                    period=result.period,
                    started_at=started,
                    finished_at=now,
                    outcome=result.outcome,
                    http_status=result.http_status,
                    sent=orjson.dumps(result.sent).decode(),
                    answer=orjson.dumps(result.answer).decode(),
                )
            )
            row = session.get(UplinkOutbox, result.period)
            if row is None:
                return
            row.attempts += 1
            row.updated_at = now
            if result.outcome in ("accepted", "unchanged"):
                row.state, row.last_error = "done", None
            elif result.outcome == "refused":
                # The parent said no (wrong region, closed period): retrying changes nothing.
                row.state, row.last_error = "refused", orjson.dumps(result.answer).decode()[:2000]
            else:
                wait = min(
                    self.settings.uplink_retry_base_seconds * 2 ** (row.attempts - 1),
                    self.settings.uplink_retry_max_seconds,
                )
                row.next_attempt_at = now + timedelta(seconds=wait)
                row.last_error = orjson.dumps(result.answer).decode()[:2000]

    def _audit(self, result: PushResult) -> None:
        if self.audit is None:
            return
        ctx = AuditContext(
            door="fhir",
            method="POST",
            path=f"{self.settings.uplink_parent_url}/fhir/Measure/$submit-data",
            interaction="uplink-push",
            action="E",
            client_id=self.settings.uplink_client_id,
            role="region",
            authenticated=True,
            resource_type="MeasureReport",
            detail=f"period {result.period}: {result.outcome}",
        )
        status = {"accepted": 200, "unchanged": 200, "refused": result.http_status or 403}
        self.audit.record(ctx, status.get(result.outcome, result.http_status or 503))

    def due(self) -> list[str]:
        """Periods whose (next) attempt is due now."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        with self.database.session() as session:
            rows = session.scalars(
                select(UplinkOutbox)
                .where(UplinkOutbox.state == "pending")
                .order_by(UplinkOutbox.period)
            )
            return [r.period for r in rows if _aware(r.next_attempt_at) <= now]

    async def catch_up(self) -> list[PushResult]:
        """Push every due period (what a child offline for a while does on its first round)."""
        return [await self.push(period, "retry") for period in await asyncio.to_thread(self.due)]

    # -- benchmarks

    async def fetch_benchmarks(self, period: str) -> dict[str, Any]:
        """The parent's benchmarks of a period, kept for the console and reports."""
        self.check_configured()
        label = parse_period(period, catalog(self.settings).definitions.rules.tz).label
        async with self._http() as http:
            token = await self._token(http)
            body = await self._call(
                http,
                "GET",
                f"/network/v1/benchmarks/{label}",
                headers={"Authorization": f"Bearer {token}"},
            )
        await asyncio.to_thread(self._keep_benchmarks, label, body)
        return dict(body)

    def _keep_benchmarks(self, period: str, body: Any) -> None:
        with self.database.session() as session:
            row = session.get(UplinkBenchmark, period)
            text = orjson.dumps(body).decode()
            if row is None:
                session.add(UplinkBenchmark(period=period, fetched_at=utcnow(), body=text))
            else:
                row.body, row.fetched_at = text, utcnow()

    def benchmarks(self, period: str) -> dict[str, Any] | None:
        """The benchmarks last fetched for a period (None: never fetched)."""
        with self.database.session() as session:
            row = session.get(UplinkBenchmark, period)
            return None if row is None else dict(orjson.loads(row.body))

    # -- status

    def status(self, limit: int = 20) -> dict[str, Any]:
        """Configuration, outbox and the latest pushes (``vte-facade uplink status``)."""
        s = self.settings
        with self.database.session() as session:
            outbox = [
                {
                    "period": r.period,
                    "state": r.state,
                    "reason": r.reason,
                    "attempts": r.attempts,
                    "nextAttemptAt": _aware(r.next_attempt_at).isoformat(timespec="seconds"),
                    "lastError": r.last_error,
                }
                for r in session.scalars(select(UplinkOutbox).order_by(UplinkOutbox.period))
            ]
            pushes = [
                {
                    "period": p.period,
                    "startedAt": _aware(p.started_at).isoformat(timespec="seconds"),
                    "outcome": p.outcome,
                    "httpStatus": p.http_status,
                    "sent": orjson.loads(p.sent),
                    "answer": orjson.loads(p.answer) if p.answer else None,
                }
                for p in session.scalars(
                    select(UplinkPush).order_by(UplinkPush.id.desc()).limit(limit)
                )
            ]
        return {
            "configured": self.configured,
            "parent": s.uplink_parent_url,
            "region": s.uplink_region_code,
            "regionName": s.uplink_region_name,
            "clientId": s.uplink_client_id,
            "outbox": outbox,
            "pushes": pushes,
        }

    # -- the loop of ``serve``

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Queue recent periods at the daily push times; push what is due; until ``stop``."""
        tz = catalog(self.settings).definitions.rules.tz
        fired: set[str] = set()
        while not stop.is_set():
            now = datetime.fromtimestamp(self.clock(), tz)
            moment = now.strftime("%H:%M")
            stamp = f"{now.date()} {moment}"
            if moment in self.settings.uplink_push_times and stamp not in fired:
                fired.add(stamp)
                previous = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
                await asyncio.to_thread(self._queue, [previous, now.strftime("%Y-%m")], "schedule")
            try:
                await self.catch_up()
            except Exception:
                log.exception("uplink round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.uplink_poll_seconds)
            except TimeoutError:
                pass


def _explain(response: httpx.Response) -> str:
    """The parent's refusal in a line: each issue's location and message (OperationOutcome or
    OAuth error), or the start of whatever else it answered."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:2000]
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        found = body.get("issue") or []
        # the errors first: a refusal's warnings (unknown code systems, ...) come after them
        found = sorted(found, key=lambda i: i.get("severity") not in ("fatal", "error"))
        issues = [
            " ".join(
                [*(i.get("expression") or [])[:1], str(i.get("diagnostics") or i.get("code") or "")]
            )
            for i in found
        ]
        return "; ".join(issues)[:2000]
    if isinstance(body, dict) and "error" in body:
        return f"{body['error']}: {body.get('error_description', '')}"[:2000]
    return response.text[:2000]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _readable(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
