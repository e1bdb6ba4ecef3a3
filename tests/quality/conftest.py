"""Fixtures of the data-quality tests: one defect region replayed once for every test that only reads it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from quality_kit import Replayed, replayed

from facade.db import Database
from facade.settings import Settings

TEST_HAPI_PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091"))


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
    database = Database(settings.database_url)
    database.upgrade()
    with replayed(settings, database, seed=4, encounters=40) as run:
        yield run
    database.dispose()
