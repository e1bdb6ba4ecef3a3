"""How the console joins the app: its routers and its static files.

``create_app`` calls ``install_console(app)``. Everything the pages share is
``Services.console`` (ConsoleServices, built in ``facade.services``), whose indicator refresher
runs in the app's one lifespan.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from facade.console import vendor
from facade.console.pages import audit, indicators, quality, registry, signin, submissions
from facade.services import services_of

log = logging.getLogger("facade.console")
STATIC = Path(__file__).parent / "static"

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
    services = services_of(app).console
    if services is None:
        return
    for name, problem in services.vendor_problems.items():
        log.error("console asset %s cannot be served: %s", name, problem)
    for module in (signin, indicators, submissions, quality, registry, audit):
        app.include_router(module.router)
    # The data-quality page (pages/quality.py, reading Services.quality) joins the bar.
    services.add_page(quality.NAV)
    app.include_router(assets)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
