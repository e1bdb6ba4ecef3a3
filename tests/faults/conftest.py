"""One platform to break for the fault tests: PostgreSQL, HAPI on it, facade processes (bench.faults)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.faults.site import Ports, Site

REPO = Path(__file__).resolve().parents[2]
# Ports derived from the checkout's HAPI test port, so parallel checkouts never meet.
PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091"))
# One timer shortened so a short run stays short: the lease a killed facade leaves behind on
# the records it was forwarding (default 300 s). The backoff while HAPI is away keeps its
# default (2 s doubling to 300 s): the forwarder's readiness probe, not a short cap, has to
# bring it back. The bench runs the defaults and records what they cost.
SHORT_TIMERS = {"VTE_FORWARD_LEASE_SECONDS": "20"}


# Module scope: the site's PostgreSQL and HAPI stop before the rest of the suite runs. Its ports
# (+8 and up) stay clear of the other tests' extra servers (+1, and +2/+4 for the network's cities).
@pytest.fixture(scope="module")
def fault_site() -> Iterator[Site]:
    """The platform, started from nothing once for every fault test, deleted afterwards."""
    site = Site(
        REPO / "var" / f"test-faults-{PORT}",
        Ports(postgres=PORT + 47300, hapi=PORT + 8, facade=PORT + 9),
        facade_env=SHORT_TIMERS,
    )
    try:
        site.start()
        yield site
    finally:
        site.stop()
