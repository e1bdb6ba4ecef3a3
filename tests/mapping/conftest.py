"""Fixtures of the mapping engine tests: the engine on the repository's dictionary and guide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from facade.mapping.engine import MappingEngine
from facade.settings import Settings

ORG = "12330100470116614F"
KEY = bytes(range(32))  # a fixed regional key, so golden files are reproducible


class FakeLinks:
    """Link facts given by the test (the production ones come from the facade database)."""

    def __init__(self, facts: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self.known = dict(facts or {})

    def facts(self, record_type: str, key: str) -> Mapping[str, Any] | None:
        return self.known.get((record_type, key))


@pytest.fixture(scope="session")
def engine() -> MappingEngine:
    """The engine over mappings/ and the generated ConceptMaps of profiles/."""
    return MappingEngine.from_settings(Settings(environment="test"))
