"""Facade settings for a benchmark's own HAPI: H2, or PostgreSQL in a throw-away bench cluster."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from facade.db import Database
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent

# HAPI's role in a bench cluster (bench.pgcluster); the cluster lives only for the run.
HAPI_DB_USER = "hapi"
HAPI_DB_PASSWORD = "hapi-bench"  # noqa: S105 - throw-away cluster on loopback
# HAPI's JVM options for every benchmark's HAPI unless it sets its own; the compose file's -Xmx2g.
HAPI_JAVA_OPTS = os.environ.get("VTE_BENCH_HAPI_JAVA_OPTS", "-Xmx2g")


def bench_settings(state: Path, hapi_port: int, jdbc: str, **overrides: Any) -> Settings:
    """Settings with the benchmark's state under ``state`` and HAPI on ``hapi_port`` (H2 when
    ``jdbc`` is empty, else that PostgreSQL database); ``overrides`` replace any field."""
    state.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "environment": "test",
        "var_dir": state,
        "database_url": f"sqlite:///{state / 'facade.db'}",
        "hapi_port": hapi_port,
        "hapi_java_opts": HAPI_JAVA_OPTS,
        "hapi_start_timeout_seconds": 600,
        "hapi_jdbc_url": jdbc,
        "hapi_jdbc_username": HAPI_DB_USER if jdbc else "",
        "hapi_jdbc_password": HAPI_DB_PASSWORD if jdbc else None,
        "fhir_base_url": f"http://127.0.0.1:{hapi_port}/fhir",
        "upstream_timeout_seconds": 600.0,
    }
    values.update(overrides)
    return ensure_secrets(Settings(**values))


async def load_guide(settings: Settings) -> int:
    """Load the compiled implementation guide into the benchmark's HAPI; how many resources."""
    upstream = UpstreamClient(settings)
    try:
        return (await load_ig(upstream, REPO / "profiles" / "fsh-generated" / "resources")).total
    finally:
        await upstream.aclose()


def evaluation_stack(settings: Settings) -> tuple[Database, HapiLauncher]:
    """An empty, migrated facade database (SQLite under the state dir) and a launcher for HAPI
    without write-time validation: for benchmarks that time evaluation, not ingestion."""
    Path(settings.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    database = Database(settings.database_url)
    database.upgrade()
    launcher = HapiLauncher(settings)
    if launcher.jar_is_stale():
        raise SystemExit("the HAPI jar is missing or stale: run `vte-facade hapi build` first")
    os.environ.update({"HAPI_VALIDATE_DECLARED_PROFILES": "false", "HAPI_REQUEST_LOG": "false"})
    return database, launcher
