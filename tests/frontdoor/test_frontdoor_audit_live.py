"""Audit against the real HAPI: exactly one AuditEvent per request, refused ones included, kept in
the facade's audit store (HAPI does not pay for it) and served from there to auditors."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import Bearer, resident_id, stay_bundle
from smart_kit import admitted_org, register
from sqlalchemy import select

from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.services import services_of

pytestmark = pytest.mark.integration


def _stored(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(AuditRecord.id)))


def _in_hapi(fhir_base_url: str, ids: list[str]) -> int:
    total = 0
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        body = httpx.get(
            f"{fhir_base_url}/AuditEvent",
            params={"_id": ",".join(chunk), "_summary": "count"},
            headers={"Cache-Control": "no-cache"},
            timeout=60,
        ).json()
        total += body["total"]
    return total


def test_audit_events_equal_requests_including_refused(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    requests = 0
    headers = bearer(hospital, "system/*.crus")  # token request
    requests += 1
    assert (
        door.post("/fhir", json=stay_bundle(org, resident_id()), headers=headers).status_code == 200
    )
    assert door.get("/fhir/Encounter", headers=headers).status_code == 200
    assert door.get("/fhir/Patient/does-not-exist", headers=headers).status_code == 404
    assert door.get("/fhir/AuditEvent", headers=headers).status_code == 403
    assert door.get("/fhir/Encounter").status_code == 401
    assert (
        door.post(
            "/fhir",
            json={"resourceType": "Bundle", "type": "transaction", "entry": [{}]},
            headers=headers,
        ).status_code
        == 400
    )
    assert door.post("/auth/token", data={"grant_type": "nope"}).status_code == 400
    requests += 7
    assert len(_stored(database)) == requests

    assert _in_hapi(fhir_base_url, _stored(database)) == 0  # HAPI stores no AuditEvent

    auditor = register(database, "auditor", scopes="system/AuditEvent.rs")
    ah = bearer(auditor, "system/AuditEvent.rs")
    found = door.get(
        "/fhir/AuditEvent", params={"altid": hospital.client_id, "_count": "50"}, headers=ah
    ).json()
    events = [e["resource"] for e in found["entry"]]
    assert len(events) == 6  # the hospital's token, write, search, two refusals and bad bundle
    outcomes = sorted(e["outcome"] for e in events)
    assert outcomes == ["0", "0", "0", "4", "4", "4"]
    write = next(
        e for e in events if e["subtype"][0]["code"] == "transaction" and e["outcome"] == "0"
    )
    names = [x.get("name") for x in write["entity"]]
    assert any(n and n.startswith("Patient/") for n in names)
    assert (
        door.get(
            "/fhir/AuditEvent", headers=bearer(register(database, "researcher"), "system/*.rs")
        ).status_code
        == 403
    )
    requests += 4  # auditor token, auditor search, researcher token, researcher refusal
    assert len(_stored(database)) == requests
    assert services_of(door.app).audit.verify().ok  # type: ignore[arg-type]
