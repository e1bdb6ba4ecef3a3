"""Shared fixtures: a real HAPI server for the session, fresh settings and database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_region import TEST_HAPI_START_TIMEOUT, load_guide
from pydantic import SecretStr

from facade.app import create_app
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.settings import Settings

REPO = Path(__file__).resolve().parent.parent
# A port of its own so the suite never talks to (or stops) a developer's `make run` server.
TEST_HAPI_PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091"))
# The trusted-write key of the session's HAPI (docker/hapi TrustedWrites), shared by every test's
# settings so the forwarder's writes skip write-time validation there as in production.
TEST_TRUSTED_WRITE_KEY = SecretStr("test-trusted-write-key-" + "0" * 40)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run tests that stop HAPI last, so every other integration test still has a server."""
    items.sort(key=lambda item: item.get_closest_marker("stops_hapi") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stops_hapi: stops the session's HAPI server (runs last)")


@pytest.fixture(scope="session")
def hapi_launcher(tmp_path_factory: pytest.TempPathFactory) -> HapiLauncher:
    """The launcher that owns the session's HAPI server (state kept under var/test-hapi)."""
    settings = Settings(
        environment="test",
        var_dir=REPO / "var" / "test",
        hapi_port=TEST_HAPI_PORT,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('unused') / 'unused.db'}",
        hapi_trusted_write_key=TEST_TRUSTED_WRITE_KEY,
        hapi_start_timeout_seconds=TEST_HAPI_START_TIMEOUT,
    )
    return HapiLauncher(settings)


@pytest.fixture(scope="session")
def fhir_base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of a real HAPI FHIR server.

    ``FHIR_BASE_URL`` points at one already running; otherwise the project's launcher builds and
    starts the jar on a fresh H2 database and stops it at the end. If HAPI cannot start, every
    integration test errors: they are never skipped.
    """
    external = os.environ.get("FHIR_BASE_URL")
    if external:
        response = httpx.get(f"{external.rstrip('/')}/metadata", timeout=30)
        response.raise_for_status()
        yield external.rstrip("/")
        return
    launcher: HapiLauncher = request.getfixturevalue("hapi_launcher")
    launcher.stop()
    data_dir = launcher.state_dir / "h2"
    for stale in data_dir.glob("*"):  # a fresh database per session keeps counts exact
        stale.unlink()
    status = launcher.start()
    try:
        yield status.base_url
    finally:
        launcher.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own SQLite file and var dir; upstream on the test HAPI port."""
    return Settings(
        environment="test",
        var_dir=tmp_path,
        fhir_base_url=os.environ.get("FHIR_BASE_URL", f"http://127.0.0.1:{TEST_HAPI_PORT}/fhir"),
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        hapi_trusted_write_key=TEST_TRUSTED_WRITE_KEY,
        hapi_start_timeout_seconds=TEST_HAPI_START_TIMEOUT,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A migrated facade database for one test."""
    db = Database(settings.database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The facade app in-process (lifespan run), on a migrated database."""
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


@pytest.fixture
def live_client(fhir_base_url: str, settings: Settings, database: Database) -> Iterator[TestClient]:
    """Like ``client``, but guaranteed to talk to the session's real HAPI server."""
    live = settings.model_copy(update={"fhir_base_url": fhir_base_url})
    with TestClient(create_app(live, database=database)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def owned_hapi(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HapiLauncher]:
    """A HAPI server this test session started itself (so it may stop it).

    Normally that is the session server; when FHIR_BASE_URL points elsewhere, a second server is
    started on the next port so the test still runs against a real HAPI rather than being skipped.
    """
    if not os.environ.get("FHIR_BASE_URL"):
        request.getfixturevalue("fhir_base_url")
        yield request.getfixturevalue("hapi_launcher")
        return
    settings = Settings(
        environment="test",
        var_dir=REPO / "var" / "test-owned",
        hapi_port=TEST_HAPI_PORT + 1,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('owned') / 'unused.db'}",
        hapi_trusted_write_key=TEST_TRUSTED_WRITE_KEY,
        hapi_start_timeout_seconds=TEST_HAPI_START_TIMEOUT,
    )
    launcher = HapiLauncher(settings)
    launcher.start()
    try:
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture(scope="session")
def ig_loaded(fhir_base_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """The implementation guide's conformance resources PUT into the session's HAPI server.

    Loads the committed ``profiles/fsh-generated`` output (idempotent); returns counts by type.
    """
    return load_guide(fhir_base_url, tmp_path_factory.mktemp("ig"))
