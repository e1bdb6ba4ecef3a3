"""No answer of the FHIR door names HAPI: every response (writes, errors, reads, paging, 503) is
scanned for the upstream's host:port, in its body and in every header.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import Bearer, entry_index, resident_id, stay_bundle
from hapi_load import nested_patient_text, patient
from smart_kit import admitted_org, get_token, random_org, register
from sqlalchemy import select

from facade.app import create_app
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.settings import Settings

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _markers(upstream: str) -> list[str]:
    """How HAPI's address could show: host:port, and the loopback alias of the same port."""
    netloc = urlsplit(upstream).netloc
    port = netloc.rsplit(":", 1)[-1]
    return [netloc, f"localhost:{port}", f"127.0.0.1:{port}"]


def _leaks(response: httpx.Response, markers: list[str]) -> list[str]:
    seen = [f"body: {m}" for m in markers if m in response.text]
    for name, value in response.headers.items():
        seen += [f"header {name}: {m}" for m in markers if m in value]
    return seen


def test_hapi_itself_names_its_address(fhir_base_url: str) -> None:
    """The leak is real: without the facade's rewriting HAPI's batch answer carries its base URL."""
    batch = {"resourceType": "Bundle", "type": "batch", "entry": []}
    answer = httpx.post(fhir_base_url, json=batch, timeout=60)
    assert urlsplit(fhir_base_url).netloc in answer.text


def test_no_answer_of_the_fhir_door_names_the_upstream(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str, settings: Settings
) -> None:
    markers = _markers(fhir_base_url)
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    headers = bearer(hospital, "system/*.crus")
    answers: dict[str, httpx.Response] = {}

    def call(name: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        answers[name] = send()
        return answers[name]

    stay = call(
        "transaction",
        lambda: door.post("/fhir", json=stay_bundle(org, resident_id()), headers=headers),
    )
    assert stay.status_code == 200, stay.text[:500]
    assert [link["url"] for link in stay.json().get("link", [])] in (
        [],
        [f"{settings.public_base_url}/fhir"],
    )
    created = call(
        "create", lambda: door.post("/fhir/Patient", json=patient(resident_id()), headers=headers)
    )
    assert created.status_code == 201, created.text[:500]
    assert created.headers["location"].startswith(f"{settings.public_base_url}/fhir/Patient/")
    pid = created.headers["location"].split("/Patient/")[1].split("/")[0]
    stored = call("read", lambda: door.get(f"/fhir/Patient/{pid}", headers=headers)).json()
    stored["birthDate"] = "1956-03-15"
    assert (
        call(
            "update", lambda: door.put(f"/fhir/Patient/{pid}", json=stored, headers=headers)
        ).status_code
        == 200
    )
    call("vread", lambda: door.get(f"/fhir/Patient/{pid}/_history/1", headers=headers))
    call("history", lambda: door.get(f"/fhir/Patient/{pid}/_history", headers=headers))
    first = call(
        "search", lambda: door.get("/fhir/Patient", params={"_count": "1"}, headers=headers)
    )
    next_url = next(link["url"] for link in first.json()["link"] if link["relation"] == "next")
    call("page", lambda: door.get(next_url.removeprefix(settings.public_base_url), headers=headers))
    batch = stay_bundle(org, resident_id())
    batch["type"] = "batch"
    batch["entry"][entry_index(batch, "Encounter")]["resource"]["meta"]["tag"] = [
        {
            "system": "https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization",
            "code": random_org(),
        }
    ]
    call("batch with a refused entry", lambda: door.post("/fhir", json=batch, headers=headers))
    # errors: HAPI's validator, a rejected transaction, HAPI's 404 and 400, the facade's own limits
    invalid = patient(resident_id())
    del invalid["birthDate"]  # structurally fine; the profile wants it
    call(
        "422 from the validator", lambda: door.post("/fhir/Patient", json=invalid, headers=headers)
    )
    rejected = stay_bundle(org, resident_id())
    del rejected["entry"][entry_index(rejected, "Encounter")]["resource"]["period"]["end"]
    call("rejected transaction", lambda: door.post("/fhir", json=rejected, headers=headers))
    call("404", lambda: door.get("/fhir/Patient/no-such-patient", headers=headers))
    call(
        "unknown search parameter",
        lambda: door.get("/fhir/Patient", params={"nonsense": "1"}, headers=headers),
    )
    over = nested_patient_text(12, patient(resident_id()))
    call(
        "over a limit",
        lambda: door.post(
            "/fhir/Patient",
            content=over,
            headers={**headers, "Content-Type": "application/fhir+json"},
        ),
    )
    call("metadata", lambda: door.get("/fhir/metadata"))
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses["422 from the validator"] == 422
    assert statuses["404"] == 404 and statuses["over a limit"] == 400
    assert statuses["unknown search parameter"] >= 400 and statuses["rejected transaction"] >= 400
    assert {name: _leaks(r, markers) for name, r in answers.items() if _leaks(r, markers)} == {}
    with database.session() as session:  # auditors read these events through the door too
        events = list(session.scalars(select(AuditRecord.body)))
    assert events and [e for e in events if any(m in e for m in markers)] == []


def test_an_unreachable_upstream_is_a_503_that_does_not_name_it(
    tmp_path: Path, settings: Settings
) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/fhir"
    down = settings.model_copy(
        update={"fhir_base_url": dead, "upstream_connect_timeout_seconds": 1.0}
    )
    database = Database(down.database_url)
    database.upgrade()
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    with TestClient(create_app(down, database=database)) as door:
        token = get_token(door, hospital, down.public_base_url, "system/*.crus")
        headers = {"Authorization": f"Bearer {token}"}
        answers = {
            "create": door.post("/fhir/Patient", json=patient(resident_id()), headers=headers),
            "transaction": door.post(
                "/fhir", json=stay_bundle(org, resident_id()), headers=headers
            ),
            "search": door.get("/fhir/Encounter", headers=headers),
            "read": door.get("/fhir/Patient/x", headers=headers),
        }
    database.dispose()
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 503)
    markers = _markers(dead)
    assert {name: _leaks(r, markers) for name, r in answers.items() if _leaks(r, markers)} == {}
