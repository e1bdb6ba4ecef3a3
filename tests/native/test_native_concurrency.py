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

from facade.native.client import VteXClient
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


def _first_call_held(
    seconds: float, handle: Callable[[Gateway, Inbound], dict[str, str]]
) -> Callable[..., Any]:
    """``handle`` wrapped so that the first request holds the gateway's turn for ``seconds``."""
    first = threading.Event()

    def held(gateway: Gateway, inbound: Inbound) -> dict[str, str]:
        reply = handle(gateway, inbound)
        if not first.is_set():
            first.set()
            time.sleep(seconds)  # answered, but the turn is not given back yet
        return reply

    return held


def _behind_a_held_request(holder: VteXClient, waiter: VteXClient) -> tuple[str, str]:
    """The holder's ping takes the only turn; the waiter's, sent just after, waits for it."""
    codes: dict[str, str] = {}
    first = threading.Thread(target=lambda: codes.update(holder=holder.ping().code))
    first.start()
    time.sleep(0.2)
    codes["waiter"] = waiter.ping().code
    first.join()
    return codes["holder"], codes["waiter"]


def test_the_timestamp_window_counts_from_arrival_not_from_the_turn(
    make_client: Callable[..., TestClient],
    registered: Registered,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timestamp 1.5 s old on arrival, within the 2 s window, then about 0.8 s in the queue:
    2.3 s old when its turn comes, and still not the caller's clock's fault (no 1006)."""
    monkeypatch.setattr(Gateway, "handle", _first_call_held(1.0, Gateway.handle))
    client = make_client(native_rate_per_second=0, native_timestamp_window_seconds=2)
    late = client_for(registered, client, clock=lambda: time.time() - 1.5)
    assert _behind_a_held_request(client_for(registered, client), late) == ("0", "0")
    early = client_for(registered, client, clock=lambda: time.time() - 2.5)
    assert early.ping().code == "1006"  # outside the window on arrival: the caller's clock


def test_a_request_left_waiting_longer_than_the_window_is_answered_5001(
    make_client: Callable[..., TestClient],
    registered: Registered,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past one window of waiting a replay of it could outlive the original's nonce, so it is
    refused as "busy, sign again" (5001), and the caller's next request goes through."""
    monkeypatch.setattr(Gateway, "handle", _first_call_held(1.6, Gateway.handle))
    client = make_client(native_rate_per_second=0, native_timestamp_window_seconds=1)
    waiter = client_for(registered, client)
    assert _behind_a_held_request(client_for(registered, client), waiter) == ("0", "5001")
    assert waiter.ping().code == "0"


def test_a_nonce_must_outlive_three_timestamp_windows() -> None:
    with pytest.raises(ValueError, match="native_nonce_ttl_seconds must be at least 3 x"):
        Settings(native_timestamp_window_seconds=300, native_nonce_ttl_seconds=899)
    assert Settings(native_timestamp_window_seconds=300, native_nonce_ttl_seconds=900)
