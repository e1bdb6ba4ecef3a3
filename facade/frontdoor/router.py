"""The FHIR front door as one router: token endpoint, FHIR read/write, and the audit forwarder.

``app.include_router(frontdoor.router)`` is the whole wiring: the router's lifespan creates the
shared services on ``app.state`` (``tokens``, ``frontdoor``, ``audit`` and the native gateway's
``native_audit`` hook) and runs the loop that forwards audit events to HAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from facade.audit.route import audit_log
from facade.frontdoor import read, write
from facade.frontdoor.context import get_front_door
from facade.security import api as security_api
from facade.security.deps import token_service

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the door's services and run the audit forwarder while the app runs."""
    token_service(app)
    get_front_door(app)
    audit = audit_log(app)
    app.state.native_audit = audit.native_hook
    task = asyncio.create_task(audit.run(app.state.upstream), name="audit-forwarder")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:  # one last round, so a clean shutdown leaves nothing waiting
            await asyncio.wait_for(audit.flush(app.state.upstream), timeout=5)
        except Exception as exc:  # HAPI down at shutdown: the rows stay in the outbox
            log.warning("audit events left in the outbox at shutdown: %s", type(exc).__name__)


router = APIRouter(lifespan=lifespan)
router.include_router(security_api.discovery)
router.include_router(security_api.router)
router.include_router(read.router)
router.include_router(write.router)
