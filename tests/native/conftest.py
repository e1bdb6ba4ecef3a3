"""Fixtures of the native gateway tests: a registered institution and app, a client that signs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, Registered, register
from native_stub import StubProcessor
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from facade.app import create_app
from facade.db import Database
from facade.native.client import VteXClient
from facade.settings import Settings, ensure_secrets

# Set to a PostgreSQL server URL (postgresql+psycopg://user@host:port/postgres) to run this suite
# on PostgreSQL instead of SQLite: each test then gets a database of its own on that server.
POSTGRES = os.environ.get("VTE_TEST_POSTGRES_URL", "")


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """The shared test settings with secrets filled in (the gateway seals app secrets with them)."""
    if not POSTGRES:
        yield ensure_secrets(settings)
        return
    server = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"native_{uuid.uuid4().hex[:12]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    yield ensure_secrets(settings.model_copy(update={"database_url": url}))
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def processor(settings: Settings) -> StubProcessor:
    """The test record processor."""
    return StubProcessor(settings.secret("pseudonym_key"))


@pytest.fixture
def app_client(
    settings: Settings, database: Database, processor: StubProcessor
) -> Iterator[TestClient]:
    """The facade app with the stub processor installed."""
    with TestClient(create_app(settings, database=database, record_processor=processor)) as client:
        yield client


@pytest.fixture
def registered(settings: Settings, database: Database) -> Registered:
    """A registered institution with one app allowed every keyed signType (not SM2) and every encType."""
    return register(settings, database)


@pytest.fixture
def vx(app_client: TestClient, registered: Registered) -> VteXClient:
    """The reference client of the registered app, talking to the in-process app (MD5, clear)."""
    return VteXClient(
        GATEWAY,
        app_id=registered.app_id,
        org_code=registered.org_code,
        secret=registered.secret,
        http=app_client,
    )


@pytest.fixture
def make_client(settings: Settings, database: Database) -> Iterator[Callable[..., TestClient]]:
    """Build another in-process app: other settings, another processor, another client address."""
    opened: list[TestClient] = []

    def build(
        *,
        processor: object = "stub",
        client: tuple[str, int] = ("testclient", 50000),
        **updates: object,
    ) -> TestClient:
        changed = settings.model_copy(update=updates)
        installed = (
            StubProcessor(settings.secret("pseudonym_key")) if processor == "stub" else processor
        )
        test_client = TestClient(
            create_app(changed, database=database, record_processor=installed),  # type: ignore[arg-type]
            client=client,
        )
        opened.append(test_client.__enter__())
        return test_client

    yield build
    for test_client in opened:
        test_client.__exit__(None, None, None)
