"""``org add`` against the real HAPI FHIR server: the Organization exists, is tagged, and follows the registry."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from native_helpers import random_uscc
from typer.testing import CliRunner

from facade.cli.main import app as cli
from facade.db import Database
from facade.fhir.naming import ORG_CODE_SYSTEM, REPORTING_ORG_TAG, profile_url
from facade.settings import Settings, get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def runner(
    fhir_base_url: str, settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_FHIR_BASE_URL", fhir_base_url)
    for name in ("master_key", "pseudonym_key", "research_key", "token_signing_key"):
        monkeypatch.setenv(f"VTE_{name.upper()}", getattr(settings, name).get_secret_value())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def organizations(base: str, org_code: str) -> list[dict[str, object]]:
    bundle = httpx.get(
        f"{base}/Organization", params={"identifier": f"{ORG_CODE_SYSTEM}|{org_code}"}, timeout=30
    ).json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def invoke(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_org_add_creates_the_organization_and_disable_follows(
    runner: CliRunner, fhir_base_url: str
) -> None:
    code = random_uscc()
    added = invoke(
        runner, "org", "add", code, "--name", "集成测试医院", "--grade", "32", "--vte-system"
    )
    (organization,) = organizations(fhir_base_url, code)
    assert organization["id"] == added["fhirId"]
    assert organization["active"] is True and organization["name"] == "集成测试医院"
    meta = organization["meta"]
    assert profile_url("vte-organization") in meta["profile"]  # type: ignore[index]
    assert {"system": REPORTING_ORG_TAG, "code": code} in [
        {"system": t["system"], "code": t["code"]}
        for t in meta["tag"]  # type: ignore[index]
    ]

    assert invoke(runner, "org", "disable", code)["fhirOrganization"] == "updated"
    (disabled,) = organizations(fhir_base_url, code)
    assert (
        disabled["id"] == added["fhirId"] and disabled["active"] is False
    )  # updated, not duplicated
