"""Fixtures of the FHIR door tests: a live app on the real HAPI with the guide loaded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import Bearer
from smart_kit import SystemClient, get_token

from facade.settings import Settings


@pytest.fixture
def door(live_client: TestClient, ig_loaded: dict[str, int]) -> TestClient:
    """The facade app in-process, talking to the session's HAPI with our profiles loaded."""
    assert ig_loaded.get("StructureDefinition", 0) > 0
    return live_client


@pytest.fixture
def bearer(door: TestClient, settings: Settings) -> Bearer:
    """``bearer(client, scope)`` -> Authorization header with a fresh access token."""

    def make(system: SystemClient, scope: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {get_token(door, system, settings.public_base_url, scope)}"
        }

    return make
