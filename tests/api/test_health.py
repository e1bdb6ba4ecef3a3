"""Liveness and readiness, with the reasons readiness gives when a dependency is missing."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient

from facade.app import create_app
from facade.db import Database
from facade.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_needs_nothing(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Request-ID"]


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"


def test_readyz_is_503_with_reason_when_fhir_server_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        fhir_base_url=f"http://127.0.0.1:{_closed_port()}/fhir",
        upstream_connect_timeout_seconds=1.0,
    )
    database = Database(settings.database_url)
    database.upgrade()
    with TestClient(create_app(settings, database=database)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "unreachable" in body["checks"]["fhir_server"]
    assert body["checks"]["database"] == "ok"


def test_readyz_reports_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        fhir_base_url=f"http://127.0.0.1:{_closed_port()}/fhir",
    )
    with TestClient(create_app(settings)) as client:
        body = client.get("/readyz").json()
    reason = body["checks"]["database"]
    assert reason.startswith("schema not migrated; pending: ")
    # every migration branch head is named, so an operator knows what to apply
    assert (
        set(reason.split(": ", 1)[1].split(", "))
        == Database(settings.database_url).pending_migrations()
    )


def test_unknown_path_answers_with_operation_outcome(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"
