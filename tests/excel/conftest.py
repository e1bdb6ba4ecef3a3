"""Fixtures of the Excel tests: the real dictionary and template, a migrated database, a registered app."""

from __future__ import annotations

from pathlib import Path

import pytest
from excel_helpers import Registered, register

from facade.db import Database
from facade.dictionary.loader import Dictionary, load_dictionary
from facade.excel.assets import ExcelAssets, load_assets
from facade.settings import Settings, ensure_secrets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dictionary() -> Dictionary:
    """The project's dictionary (mappings/), loaded once."""
    return load_dictionary(REPO / "mappings")


@pytest.fixture(scope="session")
def assets(dictionary: Dictionary) -> ExcelAssets:
    """Layout and template with the default limits."""
    return load_assets(Settings(environment="test", database_url="sqlite://"), dictionary)


@pytest.fixture(scope="session")
def template(assets: ExcelAssets) -> bytes:
    """The template workbook, built once."""
    return assets.template()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings with secrets filled in (intake seals records with them)."""
    return ensure_secrets(settings)


@pytest.fixture
def registered(settings: Settings, database: Database) -> Registered:
    """A registered institution with one app."""
    return register(settings, database)
