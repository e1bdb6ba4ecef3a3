"""``vte-facade audit`` commands, and retention purge against the real HAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.settings import Settings, get_settings
from facade.upstream import UpstreamClient


@pytest.fixture
def cli_env(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_audit_status_and_local_purge_cli(cli_env: Settings, database: Database) -> None:
    from facade.cli.main import app

    log = AuditLog(cli_env, database)
    log.record(
        AuditContext(door="fhir", method="GET", path="/fhir/Patient", interaction="search-type"),
        200,
    )
    runner = CliRunner()
    status = runner.invoke(app, ["audit", "status", "--json"])
    assert status.exit_code == 0, status.output
    assert orjson.loads(status.output)["pending"] == 1
    purged = runner.invoke(app, ["audit", "purge", "--no-remote", "--json"])
    assert purged.exit_code == 0, purged.output
    assert orjson.loads(purged.output)["deleted"] == 0  # recent and not yet forwarded: kept


@pytest.mark.integration
def test_purge_removes_expired_events_from_hapi_only(
    fhir_base_url: str, settings: Settings, database: Database
) -> None:
    live = settings.model_copy(update={"fhir_base_url": fhir_base_url})
    log = AuditLog(live, database)
    old = log.record(
        AuditContext(door="fhir", method="GET", path="/fhir/Patient", interaction="search-type"),
        200,
    )
    recent = log.record(
        AuditContext(door="fhir", method="GET", path="/fhir/Patient", interaction="search-type"),
        200,
    )
    with database.session() as session:
        row = session.get(AuditRecord, old)
        assert row is not None
        body = orjson.loads(row.body) | {"recorded": "2001-01-01T00:00:00.000Z"}
        session.execute(
            update(AuditRecord)
            .where(AuditRecord.id == old)
            .values(body=orjson.dumps(body).decode())
        )

    async def run() -> int:
        upstream = UpstreamClient(live)
        try:
            assert (await log.flush(upstream)).forwarded == 2
            return await log.purge_remote(upstream, log.cutoff(365 * 20))
        finally:
            await upstream.aclose()

    assert asyncio.run(run()) >= 1
    assert httpx.get(f"{fhir_base_url}/AuditEvent/{old}", timeout=30).status_code == 410
    assert httpx.get(f"{fhir_base_url}/AuditEvent/{recent}", timeout=30).status_code == 200
