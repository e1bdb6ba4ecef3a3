"""``GET /fhir/AuditEvent`` from the audit store: the parameters auditors use, paging, read, refusals."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from smart_kit import get_token, register

from facade.db import Database
from facade.settings import Settings


def test_auditors_search_and_read_the_store_and_nobody_else_may(
    client: TestClient, database: Database, settings: Settings
) -> None:
    base = settings.public_base_url
    researcher = register(database, "qc", scopes="system/Observation.rs")
    research = {
        "Authorization": f"Bearer {get_token(client, researcher, base, 'system/Observation.rs')}"
    }
    for n in range(3):
        client.get(
            f"/fhir/Observation/obs-{n}", headers=research
        )  # not found (404) or HAPI unreachable (503): audited either way
    assert client.get("/fhir/Encounter", headers=research).status_code == 403  # scope
    assert client.get("/fhir/AuditEvent", headers=research).status_code == 403
    auditor = register(database, "auditor", scopes="system/AuditEvent.rs")
    auth = {"Authorization": f"Bearer {get_token(client, auditor, base, 'system/AuditEvent.rs')}"}

    found = client.get(
        "/fhir/AuditEvent",
        params={"agent": researcher.client_id, "subtype": "read", "_count": "2"},
        headers=auth,
    )
    assert found.status_code == 200 and found.headers["content-type"].startswith(
        "application/fhir+json"
    )
    page = found.json()
    names = [e["resource"]["entity"][0]["name"] for e in page["entry"]]
    assert names == ["Observation/obs-2", "Observation/obs-1"]  # newest first
    following = next(link["url"] for link in page["link"] if link["relation"] == "next")
    rest = client.get(urlsplit(following).path + "?" + urlsplit(following).query, headers=auth)
    assert [e["resource"]["entity"][0]["name"] for e in rest.json()["entry"]] == [
        "Observation/obs-0"
    ]
    assert not [link for link in rest.json()["link"] if link["relation"] == "next"]

    by_entity = client.get(
        "/fhir/AuditEvent", params={"entity": f"{base}/fhir/Observation/obs-1"}, headers=auth
    ).json()
    (event,) = [e["resource"] for e in by_entity["entry"]]
    assert event["agent"][0]["altId"] == researcher.client_id and event["outcome"] in ("4", "8")
    refused = client.get(
        "/fhir/AuditEvent",
        params={"outcome": "4", "subtype": "search-type", "date": "ge2000-01-01"},
        headers=auth,
    ).json()
    refusals = [e["resource"] for e in refused["entry"]]  # Encounter and AuditEvent: 403
    assert [(e["agent"][0]["altId"], e["action"]) for e in refusals] == [
        (researcher.client_id, "E"),
        (researcher.client_id, "E"),
    ]
    assert (
        client.get(
            "/fhir/AuditEvent", params={"date": "lt2000", "_summary": "count"}, headers=auth
        ).json()["total"]
        == 0
    )
    read = client.get(f"/fhir/AuditEvent/{event['id']}", headers=auth)
    assert read.status_code == 200 and read.json() == event
    assert client.get("/fhir/AuditEvent/unknown-id", headers=auth).status_code == 404
    assert client.get(f"/fhir/AuditEvent/{event['id']}/_history", headers=auth).status_code == 404
    bad = client.get("/fhir/AuditEvent", params={"address": "10.0.0.1"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["address"]
    bad_date = client.get("/fhir/AuditEvent", params={"date": "sa2026"}, headers=auth)
    assert bad_date.status_code == 400
