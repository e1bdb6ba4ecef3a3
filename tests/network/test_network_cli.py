"""``vte-facade uplink configure|status`` and ``vte-facade region register|list`` on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facade.cli.main import app as cli
from facade.db import Database
from facade.settings import Settings


@pytest.fixture
def runner(settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_FHIR_BASE_URL", "http://127.0.0.1:9/fhir")
    return CliRunner()


def test_a_child_hands_its_public_key_to_the_parent_which_registers_the_region(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = runner.invoke(cli, ["uplink", "configure", "--json"])
    assert shown.exit_code == 0, shown.output
    config = json.loads(shown.output)
    # nothing configured yet: each missing setting is named
    assert config["missing"] == [
        "VTE_UPLINK_PARENT_URL",
        "VTE_UPLINK_REGION_CODE",
        "VTE_UPLINK_CLIENT_ID",
    ]
    key = config["jwks"]["keys"][0]
    assert key["kty"] == "EC" and key["alg"] == "ES384" and "d" not in key  # never the private half
    jwks = tmp_path / "child-jwks.json"
    jwks.write_text(json.dumps(config["jwks"]))

    registered = runner.invoke(
        cli, ["region", "register", "330100", "杭州市", "--jwks", str(jwks), "--json"]
    )
    assert registered.exit_code == 0, registered.output
    assert json.loads(registered.output)["clientId"] == "region-330100"
    again = runner.invoke(
        cli, ["region", "register", "330100", "杭州市", "--jwks", str(jwks), "--json"]
    )
    assert again.exit_code != 0 and "already registered" in again.output
    bad = runner.invoke(cli, ["region", "register", "3301", "x", "--jwks", str(jwks), "--json"])
    assert bad.exit_code != 0 and "region-code" in bad.output
    listed = json.loads(runner.invoke(cli, ["region", "list", "--json"]).output)
    assert [r["code"] for r in listed["regions"]] == ["330100"]

    monkeypatch.setenv("VTE_UPLINK_PARENT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("VTE_UPLINK_REGION_CODE", "330100")
    monkeypatch.setenv("VTE_UPLINK_CLIENT_ID", "region-330100")
    status = json.loads(runner.invoke(cli, ["uplink", "status", "--json"]).output)
    assert status["configured"] is True and status["pushes"] == []
