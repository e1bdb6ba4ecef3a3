"""How many gateway requests one process handles at once (``native_concurrent_requests``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from native_helpers import Registered, client_for

from facade.native.gateway import Gateway, Inbound
from facade.native.routes import _limiter
from facade.settings import Settings


class Overlap:
    """Counts how many requests ``Gateway.handle`` works on at once; each lingers a little."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    def around(self, handle: Callable[[Gateway, Inbound], dict[str, str]]) -> Callable[..., Any]:
        """``handle`` wrapped, to be set on the class in its place."""

        def counted(gateway: Gateway, inbound: Inbound) -> dict[str, str]:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.2)  # long enough for the other requests to arrive meanwhile
                return handle(gateway, inbound)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


def pings_at_once(client: TestClient, registered: Registered, count: int) -> list[str]:
    """``count`` pings sent at the same time, one thread each; their reply codes."""
    codes: list[str] = []

    def ping() -> None:
        codes.append(client_for(registered, client).ping().code)

    threads = [threading.Thread(target=ping) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


@pytest.mark.parametrize(
    ("updates", "most"),
    [
        ({}, {1}),
        ({"native_concurrent_requests": 1}, {1}),
        ({"native_concurrent_requests": 2}, {2}),
        ({"native_concurrent_requests": 0}, {2, 3, 4}),
    ],
    ids=["default", "one", "two", "no-limit"],
)
def test_requests_beyond_the_limit_wait_their_turn(
    make_client: Callable[..., TestClient],
    registered: Registered,
    monkeypatch: pytest.MonkeyPatch,
    updates: dict[str, int],
    most: set[int],
) -> None:
    overlap = Overlap()
    monkeypatch.setattr(Gateway, "handle", overlap.around(Gateway.handle))
    client = make_client(native_rate_per_second=0, **updates)
    assert pings_at_once(client, registered, 4) == ["0"] * 4  # all answered, none refused
    assert overlap.most in most


class Holder:
    """Stands for a gateway: what ``_limiter`` reads of one is its settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def test_each_event_loop_gets_a_limiter_of_its_own(settings: Settings) -> None:
    """A test client runs an event loop of its own; a limiter from another loop would not work."""
    gateway: Any = Holder(settings.model_copy(update={"native_concurrent_requests": 3}))

    async def twice(of: Any) -> tuple[anyio.CapacityLimiter | None, anyio.CapacityLimiter | None]:
        return _limiter(of), _limiter(of)

    (one, again), (other, other_again) = asyncio.run(twice(gateway)), asyncio.run(twice(gateway))
    assert again is one and other_again is other  # one per loop, shared by its requests
    assert one is not None and other is not None and one is not other
    assert one.total_tokens == other.total_tokens == 3
    unlimited: Any = Holder(settings.model_copy(update={"native_concurrent_requests": 0}))
    assert asyncio.run(twice(unlimited)) == (None, None)
