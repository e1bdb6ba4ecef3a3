"""App factory: builds the FastAPI application from one Settings object."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from facade import __version__
from facade.api import health, metadata
from facade.api.errors import install_error_handlers
from facade.db import Database
from facade.logs import request_id
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.request")


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the facade app; the upstream client lives for the app's lifespan."""
    settings = ensure_secrets(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstream = UpstreamClient(settings)
        try:
            yield
        finally:
            await app.state.upstream.aclose()
            app.state.database.dispose()

    app = FastAPI(title="VTE regional FHIR facade", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
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
    return app
