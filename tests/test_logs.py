"""JSON log lines: one object per line, request id, extras; no terminal colour codes."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
import uvicorn

from facade.logs import configure_logging


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The facade's logging set up as ``serve`` does, writing into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("INFO")
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:], root.level = saved


async def _app(scope: object, receive: object, send: object) -> None:
    """An ASGI app that is never called (the test only starts and stops the server)."""


def test_uvicorn_lines_carry_no_colour_message(json_lines: io.StringIO) -> None:
    # A real uvicorn server logs its start-up lines with `color_message` (ANSI escapes) extras.
    server = uvicorn.Server(
        uvicorn.Config(_app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    server.should_exit = True
    thread.join(30)
    logging.getLogger("facade.test").info("with an extra", extra={"batchNo": "B1"})
    lines = [orjson.loads(line) for line in json_lines.getvalue().splitlines() if line]
    uvicorn_lines = [entry for entry in lines if entry["logger"].startswith("uvicorn")]
    assert any("Uvicorn running on" in entry["message"] for entry in uvicorn_lines)
    assert all("color_message" not in entry for entry in lines)
    assert not any("\x1b[" in str(value) for entry in lines for value in entry.values())
    ours = next(entry for entry in lines if entry["logger"] == "facade.test")
    assert ours["batchNo"] == "B1" and ours["request_id"] == "-"  # extras still pass through
