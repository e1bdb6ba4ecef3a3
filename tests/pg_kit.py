"""A throw-away PostgreSQL cluster for tests about PostgreSQL itself (bench/pgcluster.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.pgcluster import PgCluster

REPO = Path(__file__).resolve().parents[1]
USER, PASSWORD = "vte", "vte-test"


@contextmanager
def throwaway_cluster(offset: int, *databases: str) -> Iterator[PgCluster]:
    """A new cluster with ``databases`` (owned by USER), deleted afterwards. Its port is the
    checkout's HAPI test port + ``offset``, so parallel checkouts never share a cluster."""
    port = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091")) + offset
    if port > 65535:  # a high test port plus the offset: wrap into the unprivileged range
        port = 1024 + port % (65536 - 1024)
    cluster = PgCluster(REPO / "var" / f"test-pg-{port}", port)
    cluster.start(empty=True)
    for name in databases:
        cluster.create_database(name, USER, PASSWORD)
    try:
        yield cluster
    finally:
        cluster.destroy()
