"""Fixtures of the data-quality tests: one defect region replayed once for every test that only reads it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from quality_kit import Replayed, replayed
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from facade.db import Database
from facade.settings import Settings

TEST_HAPI_PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091"))
# As in tests/native: a PostgreSQL server URL runs these tests on PostgreSQL, a database per test.
POSTGRES = os.environ.get("VTE_TEST_POSTGRES_URL", "")


@contextmanager
def _database_url(default: str) -> Iterator[str]:
    if not POSTGRES:
        yield default
        return
    server = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"dq_{uuid.uuid4().hex[:12]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """The shared test settings, on PostgreSQL when VTE_TEST_POSTGRES_URL is set."""
    with _database_url(settings.database_url) as url:
        yield settings.model_copy(update={"database_url": url})


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    """A small defect region (seed 4) uploaded through the gateway, for read-only tests."""
    where = tmp_path_factory.mktemp("dq-shared")
    settings = Settings(
        environment="test",
        var_dir=where,
        fhir_base_url=os.environ.get("FHIR_BASE_URL", f"http://127.0.0.1:{TEST_HAPI_PORT}/fhir"),
        database_url=f"sqlite:///{where / 'facade.db'}",
    )
    with _database_url(settings.database_url) as url:
        database = Database(url)
        database.upgrade()
        with replayed(
            settings.model_copy(update={"database_url": url}), database, seed=4, encounters=40
        ) as run:
            yield run
        database.dispose()
