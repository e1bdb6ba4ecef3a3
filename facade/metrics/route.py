"""``GET /metrics`` (Prometheus text format) for loopback callers and admin tokens, and the request counter.

Who may scrape: a caller on this machine (loopback peer that is not one of our own proxies and
sent no ``X-Forwarded-For``: a request relayed by a local proxy is not local), or anyone with an
access token of role ``admin``. Everyone else gets 401 (no token) or 403 (another role).

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the
workers before they start; counters and histograms are then summed across workers through
prometheus-client's multiprocess mode (see README, "Metrics"). The queue and audit gauges are
read from the database at scrape time, so every worker reports the same, whole value.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facade.api.deps import ServicesDep
from facade.audit.log import AuditLog
from facade.audit.tables import AuditAnchor, AuditChain
from facade.db import Database
from facade.errors import Forbidden
from facade.metrics.registry import HTTP_LATENCY, HTTP_REQUESTS, door_of, status_class
from facade.native.routes import from_trusted_proxy
from facade.native.tables import IntakeRecord
from facade.security.deps import current_principal
from facade.security.roles import Role
from facade.settings import Settings

router = APIRouter(tags=["operations"])


class BacklogCollector(Collector):
    """Queue depth and lag of the intake forwarder, and the audit store, read at scrape time."""

    def __init__(self, database: Database, audit: AuditLog | None = None) -> None:
        self.database = database
        self.audit = audit

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """One query per table; ages are seconds since the oldest waiting row was written."""
        now = datetime.now(UTC)
        with self.database.session() as session:
            accepted, oldest = session.execute(
                select(func.count(), func.min(IntakeRecord.created_at)).where(
                    IntakeRecord.status == "accepted"
                )
            ).one()
            failed = session.scalar(select(func.count()).where(IntakeRecord.status == "failed"))
            head = session.scalar(select(func.max(AuditChain.seq))) or 0
            purged = session.scalar(select(func.max(AuditAnchor.seq))) or 0
        yield GaugeMetricFamily(
            "vte_intake_queue_depth", "Accepted records not yet stored in HAPI.", value=accepted
        )
        yield GaugeMetricFamily(
            "vte_intake_queue_lag_seconds",
            "Age of the oldest accepted record not yet stored in HAPI (0 when none waits).",
            value=_age(now, oldest),
        )
        yield GaugeMetricFamily(
            "vte_intake_failed_records",
            "Receipts that failed for good (see their reason).",
            value=failed or 0,
        )
        yield GaugeMetricFamily(
            "vte_audit_events_stored", "AuditEvents in the audit store.", value=head - purged
        )
        if self.audit is not None:
            yield GaugeMetricFamily(
                "vte_audit_pending",
                "AuditEvents this process holds in memory, not yet written to the store.",
                value=self.audit.pending,
            )


def _age(now: datetime, oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    moment = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)  # SQLite drops the zone
    return max(0.0, (now - moment).total_seconds())


def _is_local(request: Request, settings: Settings) -> bool:
    """A caller on this machine, not a request relayed by one of our local proxies."""
    peer = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
    relayed = "x-forwarded-for" in request.headers or from_trusted_proxy(request, settings)
    return loopback and not relayed


def exposition(database: Database, audit: AuditLog | None = None) -> bytes:
    """The process (or all workers') metric families plus the database-backed gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        process = generate_latest(workers)
    else:
        process = generate_latest(REGISTRY)
    backlog = CollectorRegistry()
    backlog.register(BacklogCollector(database, audit))
    return process + generate_latest(backlog)


@router.get("/metrics", summary="Prometheus metrics (loopback callers or an admin token)")
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Counters, histograms and backlog gauges in the Prometheus text format."""
    if not _is_local(request, services.settings):
        principal = await current_principal(request, services.callers)
        if principal.role is not Role.ADMIN:
            raise Forbidden("metrics are for administrators (role admin) or local scrapers")
    body = await run_in_threadpool(exposition, services.database, services.audit)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Pure ASGI middleware counting every HTTP request by door and outcome, with its duration.

    (Starlette's ``@app.middleware("http")`` runs each request through an extra task and memory
    streams: about a tenth of a millisecond per request, which a thin read path cannot spare.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        door = door_of(scope["path"])
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            HTTP_REQUESTS.labels(door, "5xx").inc()
            raise
        HTTP_REQUESTS.labels(door, status_class(status or 500)).inc()
        HTTP_LATENCY.labels(door).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI) -> None:
    """Count every request by door and outcome, and serve ``/metrics``."""
    app.add_middleware(RequestMetrics)
    app.include_router(router)
