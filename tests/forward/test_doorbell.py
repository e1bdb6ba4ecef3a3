"""The forwarder's doorbell: rings from threads end an idle wait; rings nobody heard are kept."""

from __future__ import annotations

import asyncio
import threading
import time

from facade.forward.doorbell import Doorbell


def _timed_wait(bell: Doorbell, stop: asyncio.Event, seconds: float) -> tuple[bool, float]:
    async def go() -> tuple[bool, float]:
        started = time.monotonic()
        rung = await bell.wait(stop, seconds)
        return rung, time.monotonic() - started

    return asyncio.run(go())


def test_a_ring_from_another_thread_ends_the_wait() -> None:
    bell = Doorbell()

    async def go() -> tuple[bool, float]:
        started = time.monotonic()
        threading.Timer(0.1, bell.ring).start()
        return await bell.wait(asyncio.Event(), 30.0), time.monotonic() - started

    rung, waited = asyncio.run(go())
    assert rung and 0.05 < waited < 5.0


def test_a_ring_while_nobody_waited_is_answered_by_the_next_wait_once() -> None:
    bell = Doorbell()
    bell.ring()
    bell.ring()
    rung, waited = _timed_wait(bell, asyncio.Event(), 30.0)
    assert rung and waited < 1.0
    assert _timed_wait(bell, asyncio.Event(), 0.2)[0] is False


def test_without_a_ring_the_wait_lasts_its_seconds_and_stop_ends_it() -> None:
    rung, waited = _timed_wait(Doorbell(), asyncio.Event(), 0.2)
    assert not rung and waited >= 0.19
    stop = asyncio.Event()
    stop.set()
    rung, waited = _timed_wait(Doorbell(), stop, 30.0)
    assert not rung and waited < 1.0
