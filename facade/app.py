"""App factory: builds the FastAPI application from one Settings object."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request, Response

from facade import __version__
from facade.api import health, metadata
from facade.api.errors import install_error_handlers
from facade.db import Database
from facade.excel import routes as excel_routes
from facade.forward.runner import default_processor, forwarding
from facade.frontdoor import router as frontdoor_router
from facade.indicators import api as indicators_api
from facade.logs import request_id
from facade.native import routes as native_routes
from facade.native.processor import RecordProcessor
from facade.native.services import DQ_QUERY
from facade.quality import api as quality_api
from facade.quality.service import QualityService, native_query
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.request")


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    record_processor: RecordProcessor | Literal["dictionary"] | None = "dictionary",
) -> FastAPI:
    """Build the facade app; the upstream client lives for the app's lifespan.

    ``record_processor`` defaults to the data-element dictionary's (and then the forwarder runs
    in the lifespan); ``None`` leaves native uploads answering 5001.
    """
    settings = ensure_secrets(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstream = UpstreamClient(settings)
        try:
            async with forwarding(app):
                yield
        finally:
            await app.state.upstream.aclose()
            app.state.database.dispose()

    app = FastAPI(title="VTE regional FHIR facade", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    if record_processor == "dictionary":
        record_processor = default_processor(settings, app.state.database)
    app.state.record_processor = record_processor  # None: native uploads answer 5001
    # Data quality: counters are kept by the intake itself; reports through /dq and VTE.DQ.QUERY.
    app.state.quality = QualityService(settings, app.state.database)
    app.state.native_queries = {DQ_QUERY: native_query(app.state.quality)}
    install_error_handlers(app)

    @app.middleware("http")
    async def _request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
            response.headers["X-Request-ID"] = rid
            log.info(
                "%s %s -> %s",
                request.method,
                request.url.path,
                response.status_code,
                extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
            return response
        finally:
            request_id.reset(token)

    app.include_router(health.router)
    app.include_router(metadata.router)
    app.include_router(native_routes.router)
    app.include_router(excel_routes.router)
    app.include_router(frontdoor_router.router)
    app.include_router(indicators_api.router)
    app.include_router(quality_api.router)
    return app
