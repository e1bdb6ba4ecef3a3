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
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from facade.api.deps import ServicesDep
from facade.audit.tables import AuditRecord
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
    """Queue depth and lag of the intake forwarder and the audit outbox, read at scrape time."""

    def __init__(self, database: Database) -> None:
        self.database = database

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
            backlog, audit_oldest = session.execute(
                select(func.count(), func.min(AuditRecord.recorded_at)).where(
                    AuditRecord.forwarded_at.is_(None)
                )
            ).one()
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
            "vte_audit_backlog", "Audit events not yet forwarded to HAPI.", value=backlog
        )
        yield GaugeMetricFamily(
            "vte_audit_backlog_lag_seconds",
            "Age of the oldest audit event not yet forwarded (0 when none waits).",
            value=_age(now, audit_oldest),
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


def exposition(database: Database) -> bytes:
    """The process (or all workers') metric families plus the database-backed gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        process = generate_latest(workers)
    else:
        process = generate_latest(REGISTRY)
    backlog = CollectorRegistry()
    backlog.register(BacklogCollector(database))
    return process + generate_latest(backlog)


@router.get("/metrics", summary="Prometheus metrics (loopback callers or an admin token)")
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Counters, histograms and backlog gauges in the Prometheus text format."""
    if not _is_local(request, services.settings):
        principal = await current_principal(request, services.callers)
        if principal.role is not Role.ADMIN:
            raise Forbidden("metrics are for administrators (role admin) or local scrapers")
    body = await run_in_threadpool(exposition, services.database)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    """Count every request by door and outcome, and serve ``/metrics``."""

    @app.middleware("http")
    async def _count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        door = door_of(request.url.path)
        try:
            response = await call_next(request)
        except Exception:
            HTTP_REQUESTS.labels(door, "5xx").inc()
            raise
        HTTP_REQUESTS.labels(door, status_class(response.status_code)).inc()
        HTTP_LATENCY.labels(door).observe(time.perf_counter() - started)
        return response

    app.include_router(router)
