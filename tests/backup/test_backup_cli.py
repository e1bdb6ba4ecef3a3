"""The command line of backups and keys: ``backup``, ``restore``, ``keys status|rotate-master|sm2-*``."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facade.cli.main import app as cli
from facade.db import Database
from facade.native import sm2
from facade.settings import Settings


@pytest.fixture
def env(settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    return settings.var_dir


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_backup_verify_and_restore_from_the_command_line(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = run("backup", "--only", "facade", "--to", str(env / "out"))
    archive = str(made["archive"])
    assert Path(archive).parent == env / "out"
    assert run("restore", archive, "--verify-only")["status"] == "verified"
    monkeypatch.setenv("VTE_DATABASE_URL", f"sqlite:///{env / 'elsewhere' / 'facade.db'}")
    assert run("restore", archive, "--only", "facade")["status"] == "restored"
    refused = CliRunner().invoke(cli, ["restore", archive, "--only", "facade", "--json"])
    assert refused.exit_code == 1 and "exists" in refused.output
    wrong = CliRunner().invoke(cli, ["backup", "--only", "nothing", "--json"])
    assert wrong.exit_code == 1


def test_keys_commands(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generated = run("keys", "sm2-generate")
    private = sm2.parse_private_key(str(generated["privateKey"]))
    public = sm2.parse_public_key(str(generated["publicKey"]))
    assert sm2.check_pair(private, public)
    assert run("keys", "sm2-public")["publicKey"]  # the development pair
    status = run("keys", "status")
    assert set(status) == {
        "native_app_key.secret_sealed",
        "intake_record.payload_sealed",
        "mapping_fact.facts_sealed",
        "excel_import.error_workbook_sealed",
        "dq_record.facts_sealed",
        "console_user.totp_sealed",
    }
    refused = CliRunner().invoke(cli, ["keys", "rotate-master", "--json"])
    assert refused.exit_code == 1 and "VTE_PREVIOUS_MASTER_KEY" in refused.output
    old = json.loads((env / "dev-secrets.json").read_text())["master_key"]
    monkeypatch.setenv("VTE_MASTER_KEY", secrets.token_hex(32))
    monkeypatch.setenv("VTE_PREVIOUS_MASTER_KEY", old)
    assert run("keys", "rotate-master")["native_app_key.secret_sealed"] == {
        "current": 0,
        "resealed": 0,
        "unreadable": 0,
        "skipped": 0,
    }
