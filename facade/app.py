"""App factory: builds the services (facade.services) and the FastAPI application around them."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facade import __version__
from facade.api import health, metadata
from facade.api.errors import install_error_handlers
from facade.audit.redact import mask_text, safe_request_id
from facade.console.wiring import install_console
from facade.db import Database
from facade.excel import routes as excel_routes
from facade.frontdoor import router as frontdoor_router
from facade.indicators import api as indicators_api
from facade.logs import request_id
from facade.metrics.route import install_metrics
from facade.native import routes as native_routes
from facade.network import api as network_api
from facade.quality import api as quality_api
from facade.research import api as research_api
from facade.services import ProcessorChoice, build_services, lifespan
from facade.settings import Settings
from facade.submissions import api as submissions_api
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.request")


class RequestContext:
    """Pure ASGI middleware: the request id (kept only when it is a safe token; echoed, logged,
    audited) and one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = safe_request_id(given.decode("latin-1") if given is not None else None)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, sending)
            log.info(
                "%s %s -> %s",
                scope["method"],
                mask_text(scope["path"]),
                status,
                extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
        finally:
            request_id.reset(token)


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    record_processor: ProcessorChoice = "dictionary",
    clock: Callable[[], float] = time.time,
    upstream: UpstreamClient | None = None,
) -> FastAPI:
    """Build the facade app: every service once (``app.state.services``), then the routes.

    ``record_processor`` defaults to the data-element dictionary's (and then the forwarder runs
    in the lifespan); ``None`` leaves native uploads answering 5001. ``upstream`` replaces the
    client to HAPI (tests that record what the facade sends).
    """
    services = build_services(
        settings,
        database=database,
        record_processor=record_processor,
        clock=clock,
        upstream=upstream,
    )

    @asynccontextmanager
    async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(services):
            yield

    app = FastAPI(
        title="VTE regional FHIR facade",
        version=__version__,
        lifespan=_lifespan,
        # Metrics are Prometheus's (facade.metrics) and logs our JSON lines; FastAPI's
        # OpenTelemetry bridge would only look for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    install_error_handlers(app)
    install_metrics(app)

    app.add_middleware(RequestContext)
    # Compressed answers for clients that accept gzip (a 20-resource page: 36 KB -> 3.5 KB at
    # level 1 for ~0.1 ms of CPU; higher levels buy a few hundred bytes for half as much again).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=settings.gzip_level)

    app.include_router(health.router)
    app.include_router(metadata.router)
    app.include_router(native_routes.router)
    app.include_router(excel_routes.router)
    # Before the FHIR door: its Measure/$submit-data is the network's, not HAPI's.
    app.include_router(network_api.router)
    app.include_router(frontdoor_router.router)
    app.include_router(indicators_api.router)
    app.include_router(submissions_api.router)
    app.include_router(research_api.router)
    app.include_router(quality_api.router)
    install_console(app)  # people's web console: /console (pages, static files, refresher)
    return app
