"""``vte-facade user ...`` and ``vte-facade console assets --check``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyotp
import pytest
from typer.testing import CliRunner

from facade.cli.main import app
from facade.console.users import UserStore
from facade.db import Database
from facade.settings import Settings, ensure_secrets

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UserStore:
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("VTE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    current = ensure_secrets(Settings())
    database = Database(current.database_url)
    database.upgrade()
    return UserStore(current, database)


def test_the_first_admin_gets_a_password_and_a_totp_secret_once(cli_env: UserStore) -> None:
    added = runner.invoke(
        app, ["user", "add", "root", "--role", "admin", "--name", "平台管理员", "--json"]
    )
    assert added.exit_code == 0, added.output
    shown = orjson.loads(added.stdout)
    assert shown["role"] == "admin" and shown["secondFactor"] and shown["mustChangePassword"]
    assert shown["totpUri"].startswith("otpauth://totp/")
    user = cli_env.check_password("root", shown["password"])
    assert cli_env.check_code(user.id, pyotp.TOTP(shown["totpSecret"]).now()).username == "root"
    listed = runner.invoke(app, ["user", "list", "--json"])
    assert shown["password"] not in listed.stdout and shown["totpSecret"] not in listed.stdout
    assert [u["username"] for u in orjson.loads(listed.stdout)] == ["root"]
    text = runner.invoke(app, ["user", "reset", "root"])
    assert text.exit_code == 0 and "one-time password" in text.stdout
    assert runner.invoke(app, ["user", "disable", "root"]).exit_code == 0
    assert (
        orjson.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)[0]["status"]
        == "disabled"
    )


def test_refusals_name_the_option_at_fault(cli_env: UserStore) -> None:
    refused = runner.invoke(app, ["user", "add", "ward", "--role", "hospital"])
    assert refused.exit_code == 1 and "--org" in refused.output
    unknown = runner.invoke(app, ["user", "reset", "nobody", "--json"])
    assert unknown.exit_code == 1 and "no user nobody" in unknown.stdout


def test_console_assets_check_reports_the_pinned_echarts(cli_env: UserStore) -> None:
    checked = runner.invoke(app, ["console", "assets", "--check", "--json"])
    assert checked.exit_code == 0, checked.output
    assert orjson.loads(checked.stdout)["files"] == [
        {"name": "echarts.min.js", "version": "6.1.0", "problem": None}
    ]
