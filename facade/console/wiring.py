"""How the console joins the app: its routers, its static files, and the refresher in the lifespan.

``create_app`` calls ``install_console(app)`` and enters ``console_running(app)`` in its
lifespan. Everything the pages share lives in ``app.state.console`` (ConsoleServices).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from facade.console import vendor
from facade.console.pages import audit, indicators, registry, signin, submissions
from facade.console.services import console_services

log = logging.getLogger("facade.console")
STATIC = Path(__file__).parent / "static"
STOP_TIMEOUT_SECONDS = 10.0

assets = APIRouter(prefix="/console/vendor", include_in_schema=False)


@assets.get("/{name}")
async def vendor_file(name: str) -> Response:
    """A pinned front-end file, served only while its digest matches ``vendor.yaml``."""
    entry = vendor.manifest().get(name)
    if entry is None:
        return PlainTextResponse("not found", status_code=404)
    problem = vendor.problem(
        entry, vendor.VENDOR_DIR
    )  # every request: a swapped file is never served
    if problem is not None:
        return PlainTextResponse(problem, status_code=503)
    return FileResponse(
        vendor.VENDOR_DIR / entry.name,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def install_console(app: FastAPI) -> None:
    """Add the console's pages and files to the app (unless ``console_enabled`` is off)."""
    if not app.state.settings.console_enabled:
        return
    services = console_services(app)
    for name, problem in services.vendor_problems.items():
        log.error("console asset %s cannot be served: %s", name, problem)
    for module in (signin, indicators, submissions, registry, audit):
        app.include_router(module.router)
    app.include_router(assets)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")


@contextlib.asynccontextmanager
async def console_running(app: FastAPI) -> AsyncIterator[None]:
    """Run the indicator refresher (recompute requests and the daily schedule) for the lifespan."""
    if not app.state.settings.console_enabled:
        yield
        return
    services = console_services(app)
    services.refresher.after_job = services.warm
    stop = asyncio.Event()
    task = asyncio.create_task(
        services.refresher.run(app.state.upstream, stop), name="vte-indicator-refresh"
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("indicator refresh still running at shutdown; cancelled")
            task.cancel()
