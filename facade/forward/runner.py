"""Wiring: the app's default record processor and the forwarder running beside the app.

``create_app`` installs the dictionary processor unless told otherwise, and its lifespan enters
``forwarding(app)``: a ``Forwarder`` is kept at ``app.state.forwarder`` (tests await its
``drain()``), and unless ``forward_enabled`` is off a background task drains the queue every
``forward_idle_seconds``. ``vte-facade forward`` runs the same loop as its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from facade.db import Database
from facade.forward.worker import Forwarder
from facade.mapping.processor import DictionaryProcessor
from facade.settings import Settings

log = logging.getLogger("facade.forward")
STOP_TIMEOUT_SECONDS = 30.0


def default_processor(settings: Settings, database: Database) -> DictionaryProcessor:
    """The production record processor: the data-element dictionary of ``settings.mappings_dir``."""
    return DictionaryProcessor.from_settings(settings, database)


@contextlib.asynccontextmanager
async def forwarding(app: FastAPI) -> AsyncIterator[None]:
    """Run the forwarder for the app's lifespan (only beside the dictionary processor)."""
    settings: Settings = app.state.settings
    processor = getattr(app.state, "record_processor", None)
    if not isinstance(processor, DictionaryProcessor):
        yield  # another processor's payloads are not the engine's to map
        return
    forwarder = Forwarder(settings, app.state.database, app.state.upstream, processor.engine)
    app.state.forwarder = forwarder
    if not settings.forward_enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run_forever(stop), name="vte-forwarder")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.error("forwarder did not stop within %s s; cancelled", STOP_TIMEOUT_SECONDS)
            task.cancel()
