"""A published FHIR client (fhirpy) pages through 1,000 search results via a running facade."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fhirpy import SyncFHIRClient
from frontdoor_stay import RESIDENT_ID_SYSTEM, resident_id, stay_resources
from smart_kit import admitted_org, get_token, register

from facade.app import create_app
from facade.db import Database
from facade.fhir.naming import REPORTING_ORG_TAG, RESEARCH_PSEUDONYM_SYSTEM
from facade.settings import Settings

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(
    fhir_base_url: str, tmp_path: Path, ig_loaded: dict[str, int]
) -> Iterator[tuple[str, Database]]:
    """The facade served by uvicorn on a free loopback port (fhirpy needs a real HTTP server)."""
    port = _free_port()
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        fhir_base_url=fhir_base_url,
        host="127.0.0.1",
        port=port,
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
    )
    database = Database(settings.database_url)
    database.upgrade()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, database=database),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "facade did not start"
        time.sleep(0.05)
    try:
        yield settings.public_base_url, database
    finally:
        server.should_exit = True
        thread.join(30)
        database.dispose()


def test_fhirpy_pages_through_1000_patients(served: tuple[str, Database]) -> None:
    base, database = served
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/Patient.crus")
    template = next(r for r in stay_resources(org) if r["resourceType"] == "Patient")
    with httpx.Client(timeout=300) as http:
        token = get_token(http, hospital, base, "system/Patient.crus", post_base=base)
        for _ in range(5):
            entries = []
            for _ in range(200):
                patient = {k: v for k, v in template.items() if k not in ("id", "meta")}
                patient["identifier"] = [{"system": RESIDENT_ID_SYSTEM, "value": resident_id()}]
                entries.append(
                    {"resource": patient, "request": {"method": "POST", "url": "Patient"}}
                )
            response = http.post(
                f"{base}/fhir",
                json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text[:500]
        researcher = register(database, "researcher", scopes="system/Patient.rs")
        research_token = get_token(http, researcher, base, "system/Patient.rs", post_base=base)

    client = SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token}")
    patients = client.resources("Patient").limit(100).fetch_all()
    assert len(patients) == 1000
    assert len({p.id for p in patients}) == 1000
    assert client.resources("Patient").count() == 1000

    research = SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {research_token}")
    shown = (
        research.resources("Patient")
        .search(_tag=f"{REPORTING_ORG_TAG}|{org}")
        .limit(250)
        .fetch_all()
    )
    assert len({p.id for p in shown}) == 1000
    assert not {p.id for p in shown} & {p.id for p in patients}
    assert all([i["system"] for i in p["identifier"]] == [RESEARCH_PSEUDONYM_SYSTEM] for p in shown)
