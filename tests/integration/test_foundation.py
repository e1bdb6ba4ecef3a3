"""The foundation on real parts: the upstream client writes to HAPI and finds it again; readiness."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from facade.app import create_app
from facade.cli.main import app as cli
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.settings import Settings
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration


@pytest.mark.anyio
async def test_upstream_client_creates_and_finds_a_resource(
    fhir_base_url: str, tmp_path: Path
) -> None:
    client = UpstreamClient(
        Settings(environment="test", var_dir=tmp_path, fhir_base_url=fhir_base_url)
    )
    marker = uuid.uuid4().hex
    try:
        created = await client.send_json(
            "POST",
            "Organization",
            {
                "resourceType": "Organization",
                "identifier": [{"system": "urn:test", "value": marker}],
                "name": "T",
            },
        )
        assert created["id"]
        found = await client.get_json("Organization", {"identifier": f"urn:test|{marker}"})
        assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]
        assert await client.count("Organization", {"identifier": f"urn:test|{marker}"}) == 1
        streamed = [
            r["id"]
            async for r in client.iter_search("Organization", {"identifier": f"urn:test|{marker}"})
        ]
        assert streamed == [created["id"]]
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_paging_streams_every_match_exactly_once(fhir_base_url: str, tmp_path: Path) -> None:
    client = UpstreamClient(
        Settings(environment="test", var_dir=tmp_path, fhir_base_url=fhir_base_url)
    )
    marker = uuid.uuid4().hex
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Organization",
                    "identifier": [{"system": "urn:page", "value": marker}],
                    "name": f"O{i}",
                },
                "request": {"method": "POST", "url": "Organization"},
            }
            for i in range(45)
        ],
    }
    try:
        await client.transaction(bundle)
        names = [
            r["name"]
            async for r in client.iter_search(
                "Organization", {"identifier": f"urn:page|{marker}", "_count": "10"}
            )
        ]
        assert sorted(names) == sorted(f"O{i}" for i in range(45))
    finally:
        await client.aclose()


def test_readyz_is_200_against_real_hapi(live_client: TestClient) -> None:
    response = live_client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"fhir_server": "ok", "database": "ok"}


def _cli_env(launcher: HapiLauncher) -> dict[str, str]:
    return {
        "VTE_VAR_DIR": str(launcher.settings.var_dir),
        "VTE_HAPI_PORT": str(launcher.settings.hapi_port),
    }


def test_hapi_status_json_reports_the_running_server(owned_hapi: HapiLauncher) -> None:
    result = CliRunner().invoke(cli, ["hapi", "status", "--json"], env=_cli_env(owned_hapi))
    assert result.exit_code == 0, result.output
    status = orjson.loads(result.output)
    assert status["state"] == "running"
    assert status["pid"] == int(owned_hapi.pid_file.read_text())
    assert status["baseUrl"] == owned_hapi.base_url
    # the same in text mode, the first command anyone runs when troubleshooting
    text = CliRunner().invoke(cli, ["hapi", "status"], env=_cli_env(owned_hapi))
    assert text.exit_code == 0, text.output
    assert f"HAPI FHIR: running (pid {status['pid']}) at {owned_hapi.base_url}" in text.stdout
    # starting it again starts nothing and says so
    again = CliRunner().invoke(cli, ["hapi", "start"], env=_cli_env(owned_hapi))
    assert again.exit_code == 0, again.output
    assert "already running" in again.stdout and "starting" not in again.stdout
    assert int(owned_hapi.pid_file.read_text()) == status["pid"]


@pytest.mark.stops_hapi
def test_stopping_hapi_turns_readyz_503_with_reason(
    owned_hapi: HapiLauncher, tmp_path: Path
) -> None:
    settings = Settings(environment="test", var_dir=tmp_path, fhir_base_url=owned_hapi.base_url)
    database = Database(settings.database_url)
    database.upgrade()
    with TestClient(create_app(settings, database=database)) as client:
        assert client.get("/readyz").status_code == 200
        runner = CliRunner()
        stopped = runner.invoke(cli, ["hapi", "stop", "--json"], env=_cli_env(owned_hapi))
        assert orjson.loads(stopped.output) == {"stopped": True}
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "unreachable" in response.json()["checks"]["fhir_server"]
        status = runner.invoke(cli, ["hapi", "status", "--json"], env=_cli_env(owned_hapi))
        assert status.exit_code == 3
        assert orjson.loads(status.output)["state"] == "stopped"
        text = runner.invoke(cli, ["hapi", "status"], env=_cli_env(owned_hapi))
        assert text.exit_code == 3, text.output
        assert f"HAPI FHIR: stopped at {owned_hapi.base_url}" in text.stdout


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
