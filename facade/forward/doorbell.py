"""Wakes the idle forwarder when this process has accepted records, from any thread.

Without it a record accepted just after the forwarder found the queue empty waits the whole
``forward_idle_seconds`` before it is claimed. The gateway and the Excel import API ring it. The
doorbell only shortens that wait: records accepted by another process (the CLI's Excel import,
another replica) are still found by the idle poll, so nothing depends on a ring arriving.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Doorbell:
    """One waiter (the forwarder loop), any number of ringers (intake worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rung = False  # a ring nobody has answered yet
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def ring(self) -> None:
        """Say that records were committed to the queue; safe from any thread, never blocks."""
        with self._lock:
            self._rung = True
            waiter = self._waiter
        if waiter is not None:
            loop, event = waiter
            with contextlib.suppress(RuntimeError):  # the waiting loop has just closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, stop: asyncio.Event, seconds: float) -> bool:
        """Wait until rung, ``stop`` is set or ``seconds`` pass; True when it was rung (also by a
        ring that came while nobody waited, e.g. during the forwarder's last round)."""
        event = asyncio.Event()
        with self._lock:
            if self._rung:
                self._rung = False
                return True
            self._waiter = (asyncio.get_running_loop(), event)
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=max(seconds, 0.0), return_when="FIRST_COMPLETED")
        finally:
            for pending in waits:
                pending.cancel()
            with self._lock:
                self._waiter = None
                rung, self._rung = self._rung, False
        return rung
