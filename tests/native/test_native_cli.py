"""``vte-facade org|app|native`` through typer's CliRunner, on a real (SQLite) database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, make_uscc
from typer.testing import CliRunner

from facade.app import create_app
from facade.cli.main import app as cli
from facade.db import Database
from facade.fhir.naming import ORG_CODE_SYSTEM, REPORTING_ORG_TAG, profile_url
from facade.native import orgs
from facade.native.client import VteXClient
from facade.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[2]
ORG = make_uscc("12320100466000000")
REAL_PUBLISH = orgs.publish_organization
VECTOR = {
    "appId": "H320100001",
    "orgCode": "12320000466000000X",
    "serviceCode": "VTE.CASE.UPLOAD",
    "version": "1.0",
    "timestamp": "1767225600000",
    "nonce": "5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6",
    "signType": "MD5",
    "encType": "NONE",
    "bizContent": '{"batchNo":"B20260101001","records":[{"recordId":"ZY0001","patientIdHash":"abc"}]}',
}


@pytest.fixture
def runner(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """A CLI whose settings point at this test's database; HAPI on a port where nothing listens."""
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_FHIR_BASE_URL", "http://127.0.0.1:9/fhir")
    monkeypatch.setenv("VTE_UPSTREAM_CONNECT_TIMEOUT_SECONDS", "1")
    for name in ("master_key", "pseudonym_key", "research_key", "token_signing_key"):
        monkeypatch.setenv(f"VTE_{name.upper()}", getattr(settings, name).get_secret_value())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str, code: int = 0) -> Any:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


@pytest.fixture
def fake_hapi(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, bool]]:
    """Unit tests stand in for HAPI here; tests/native/test_native_hapi.py uses the real server."""
    calls: list[tuple[str, str, bool]] = []

    async def publish(
        _upstream: Any, org_code: str, name: str, grade: str, *, active: bool, **_: Any
    ) -> str:
        calls.append((org_code, name, active))
        return "org-1"

    monkeypatch.setattr(orgs, "publish_organization", publish)
    return calls


def test_org_add_list_disable_enable(
    runner: CliRunner, fake_hapi: list[tuple[str, str, bool]]
) -> None:
    added = run(
        runner, "org", "add", ORG, "--name", "南京测试医院", "--grade", "31", "--vte-system"
    )
    assert added == {
        "orgCode": ORG,
        "name": "南京测试医院",
        "hospitalGrade": "31",
        "status": "active",
        "fhirId": "org-1",
    }
    assert run(runner, "org", "list")[0]["orgCode"] == ORG
    assert run(runner, "org", "disable", ORG)["status"] == "disabled"
    assert run(runner, "org", "enable", ORG)["status"] == "active"
    assert fake_hapi == [
        (ORG, "南京测试医院", True),
        (ORG, "南京测试医院", False),
        (ORG, "南京测试医院", True),
    ]
    again = run(runner, "org", "add", ORG, "--name", "x", "--grade", "31", "--vte-system", code=1)
    assert "already registered" in again["error"]


@pytest.mark.parametrize(
    ("args", "at_fault"),
    [
        (["--grade", "11", "--vte-system"], ["--grade"]),  # a primary hospital
        (["--grade", "90", "--vte-system"], ["--grade"]),  # not graded
        (["--grade", "31"], ["--vte-system"]),  # no VTE system with the five functions
        (["--grade", "11"], ["--grade", "--vte-system"]),  # both, reported at once
    ],
)
def test_org_add_enforces_the_admission_rule(
    runner: CliRunner,
    fake_hapi: list[tuple[str, str, bool]],
    args: list[str],
    at_fault: list[str],
) -> None:
    error = run(runner, "org", "add", ORG, "--name", "x", *args, code=1)
    assert "not admitted" in error["error"]
    assert [issue["field"] for issue in error["issues"]] == at_fault
    assert fake_hapi == [] and run(runner, "org", "list") == []
    text = runner.invoke(cli, ["org", "add", ORG, "--name", "x", *args])
    assert all(f"{flag}: " in text.stderr for flag in at_fault)


@pytest.mark.parametrize("code", ["12320100466000000A", "1232010046600000", "12ABCDEF466000000X"])
def test_org_add_checks_the_credit_code(
    runner: CliRunner, fake_hapi: list[tuple[str, str, bool]], code: str
) -> None:
    assert code != ORG
    error = run(runner, "org", "add", code, "--name", "x", "--grade", "21", "--vte-system", code=1)
    assert "unified social credit code" in error["error"]
    assert [issue["field"] for issue in error["issues"]] == ["ORG_CODE"]
    assert fake_hapi == []


def test_org_add_with_hapi_down_registers_nothing(runner: CliRunner) -> None:
    error = run(runner, "org", "add", ORG, "--name", "x", "--grade", "21", "--vte-system", code=1)
    assert "FHIR server" in error["error"] and "nothing was registered" in error["error"]
    assert run(runner, "org", "list") == []


def test_org_disable_works_while_hapi_is_down(
    runner: CliRunner, fake_hapi: list[tuple[str, str, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(runner, "org", "add", ORG, "--name", "x", "--grade", "21", "--vte-system")
    monkeypatch.setattr(orgs, "publish_organization", REAL_PUBLISH)  # HAPI is on a dead port
    result = runner.invoke(cli, ["org", "disable", ORG, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "disabled" and body["fhirOrganization"].startswith("not updated")


def test_app_lifecycle_and_the_secret_works_once_shown(
    runner: CliRunner,
    fake_hapi: list[tuple[str, str, bool]],
    settings: Settings,
    database: Database,
) -> None:
    run(runner, "org", "add", ORG, "--name", "x", "--grade", "31", "--vte-system")
    issued = run(
        runner,
        "app",
        "issue",
        "--org",
        ORG,
        "--name",
        "VTE 系统",
        "--sign-types",
        "HMAC-SM3,MD5",
        "--ip",
        "10.0.0.0/8",
    )
    assert issued["appId"] == "H320100001" and issued["keyVersion"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", issued["appSecret"])
    second = run(runner, "app", "issue", "--org", ORG, "--name", "HIS")
    assert second["appId"] == "H320100002"

    listed = run(runner, "app", "list", "--org", ORG)
    assert [a["appId"] for a in listed] == ["H320100001", "H320100002"]
    assert issued["appSecret"] not in json.dumps(listed)
    assert listed[0]["signTypes"] == ["HMAC-SM3", "MD5"] and listed[0]["ipAllowList"] == [
        "10.0.0.0/8"
    ]

    changed = run(runner, "app", "set", "H320100001", "--sign-types", "HMAC-SM3", "--any-ip")
    assert changed["signTypes"] == ["HMAC-SM3"] and changed["ipAllowList"] == []

    with TestClient(create_app(settings, database=database, record_processor=None)) as http:
        client = VteXClient(
            GATEWAY,
            app_id="H320100001",
            org_code=ORG,
            secret=issued["appSecret"],
            sign_type="HMAC-SM3",
            http=http,
        )
        assert client.ping().code == "0"
        rotated = run(runner, "app", "rotate", "H320100001")
        assert rotated["keyVersion"] == 2 and rotated["appSecret"] != issued["appSecret"]
        client.key_version = 1
        assert client.ping().code == "0"
        assert run(runner, "app", "rotate", "H320100001", "--complete")["retiredKeyVersions"] == [1]
        assert client.ping().code == "1005"
        assert "--yes" in run(runner, "app", "revoke", "H320100001", code=1)["error"]
        assert run(runner, "app", "revoke", "H320100001", "--yes")["status"] == "revoked"
        client.secret, client.key_version = rotated["appSecret"], None
        assert client.ping().code == "1002"


def test_app_issue_refuses_unknown_org_and_bad_choices(
    runner: CliRunner, fake_hapi: list[tuple[str, str, bool]]
) -> None:
    assert (
        "not registered"
        in run(runner, "app", "issue", "--org", ORG, "--name", "x", code=1)["error"]
    )
    run(runner, "org", "add", ORG, "--name", "x", "--grade", "31", "--vte-system")
    assert (
        "signTypes"
        in run(runner, "app", "issue", "--org", ORG, "--name", "x", "--sign-types", "SHA1", code=1)[
            "error"
        ]
    )
    assert (
        "CIDR"
        in run(runner, "app", "issue", "--org", ORG, "--name", "x", "--ip", "nope", code=1)["error"]
    )
    assert (
        "appId"
        in run(runner, "app", "issue", "--org", ORG, "--name", "x", "--app-id", "a b", code=1)[
            "error"
        ]
    )


def test_sign_debug_prints_the_spec_vector(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps({**VECTOR, "sign": "bf4de7e1112493bf303cd68b699cd082"}))
    secret = "0123456789abcdef0123456789abcdef"
    report = run(runner, "native", "sign-debug", str(path), "--secret", secret)
    assert report["canonicalString"].startswith("appId=H320100001&bizContent={")
    assert report["stringToSign"].endswith("&key=0123…cdef")  # masked unless --show-secret
    assert report["expectedSign"] == {"MD5": "BF4DE7E1112493BF303CD68B699CD082"}
    assert report["signMatches"] is False  # lower-case hex is not the sign
    human = runner.invoke(
        cli,
        ["native", "sign-debug", str(path), "--show-secret"],
        env={"VTE_SIGN_DEBUG_SECRET": secret},
    )
    assert (
        human.exit_code == 0
        and f"&key={secret}" in human.stdout
        and "does NOT match" in human.stdout
    )
    # piped output (CliRunner is no terminal): each string on one line, never hard-wrapped
    lines = human.stdout.splitlines()
    assert report["canonicalString"] in lines
    assert report["canonicalString"] + f"&key={secret}" in lines


def test_tables_never_cut_identifiers_at_80_columns(
    runner: CliRunner, fake_hapi: list[tuple[str, str, bool]]
) -> None:
    long_id = "HOSPITAL-VTE-SYSTEM-2026-ABCDEFG"  # the longest appId allowed: 32 characters
    run(runner, "org", "add", ORG, "--name", "南京市第一医院", "--grade", "31", "--vte-system")
    run(
        runner,
        "app",
        "issue",
        "--org",
        ORG,
        "--name",
        "VTE",
        "--app-id",
        long_id,
        "--ip",
        "10.0.0.0/8",
    )
    for command in (["app", "list"], ["org", "list"]):
        shown = runner.invoke(cli, command, env={"COLUMNS": "80"})
        assert shown.exit_code == 0, shown.output
        assert ORG in shown.stdout and "…" not in shown.stdout
    assert long_id in runner.invoke(cli, ["app", "list"], env={"COLUMNS": "80"}).stdout


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["org", "add"],
        ["app", "rotate"],
        ["synth"],
        ["forward"],
        ["indicators"],
        ["hapi", "status"],
    ],
)
def test_help_shows_no_type_on_flags(runner: CliRunner, command: list[str]) -> None:
    shown = runner.invoke(cli, [*command, "--help"], env={"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.output
    assert "<bool>" not in shown.stdout and "--help" in shown.stdout
    if command == ["synth"]:  # a command, not a group: no COMMAND [ARGS]
        assert "COMMAND" not in shown.stdout and "[OPTIONS]" in shown.stdout
    if command == ["forward"]:  # runs by itself (--once) and has `forward status`
        assert "--once" in shown.stdout and "status" in shown.stdout


def test_sign_debug_reports_problems_and_checks_decryption(
    runner: CliRunner, tmp_path: Path
) -> None:
    secret = "s" * 64
    client = VteXClient(
        GATEWAY, app_id="H320100001", org_code=ORG, secret=secret, enc_type="SM4-GCM"
    )
    envelope = {**client.envelope("VTE.PING", {}), "extra": "1"}
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps(envelope))
    report = run(runner, "native", "sign-debug", str(path), "--secret", secret)
    assert report["problems"] == ["1001 extra: 未知字段"]
    assert report["decryption"].startswith("ok")
    assert run(runner, "native", "sign-debug", str(path), "--secret", "wrong" * 10)[
        "decryption"
    ].startswith("failed")
    path.write_text("[]")
    assert (
        "not a JSON object"
        in run(runner, "native", "sign-debug", str(path), "--secret", secret, code=1)["error"]
    )


def test_commands_refuse_an_unmigrated_database(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["org", "list", "--json"],
        env={"VTE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"},
    )
    get_settings.cache_clear()
    assert result.exit_code == 1 and "db upgrade" in result.stdout


def test_admitted_grades_are_the_level_2_and_3_codes_of_the_code_table() -> None:
    table = yaml.safe_load((REPO / "mappings" / "code-tables" / "hospital-grade.yaml").read_text())
    admitted = {c["code"]: c["zh"] for c in table["concepts"] if c["properties"]["level"] >= 2}
    assert admitted == orgs.ADMITTED_GRADES


def test_organization_resource_follows_the_profile() -> None:
    resource = orgs.organization_resource(ORG, "医院", "21", active=True)
    assert resource["meta"]["profile"] == [profile_url("vte-organization")]
    assert resource["meta"]["tag"] == [{"system": REPORTING_ORG_TAG, "code": ORG}]
    assert resource["identifier"] == [{"system": ORG_CODE_SYSTEM, "value": ORG}]
    grade, capabilities = resource["extension"]
    assert grade["valueCoding"]["code"] == "21"
    assert [e["valueBoolean"] for e in capabilities["extension"]] == [True] * 5
