"""The audit trail as requests make it: one event per request, refusals included, nothing personal."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from smart_kit import admitted_org, get_token, random_org, register
from sqlalchemy import select

from facade.audit.log import AuditLog
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.native.audit import NativeAuditEvent
from facade.settings import Settings


def test_native_hook_records_one_event(settings: Settings, database: Database) -> None:
    log = AuditLog(settings, database)
    org = random_org()
    log.native_hook(
        NativeAuditEvent(
            request_id="r1",
            occurred_ms=0,
            source_ip="10.0.0.1",
            app_id="H330100001",
            org_code=org,
            service_code="vte.case.upload",
            nonce="n",
            sign_type="HMAC-SM3",
            enc_type="NONE",
            signature_verified=True,
            code="0",
            batch_no="B1",
            total=3,
            success_count=2,
            fail_count=1,
            duration_ms=12.0,
        )
    )
    log.native_hook(
        NativeAuditEvent(
            request_id="r2",
            occurred_ms=0,
            source_ip="10.0.0.9",
            app_id="H330100001",
            org_code="",
            service_code="",
            nonce="",
            sign_type="",
            enc_type="",
            signature_verified=False,
            code="1005",
            batch_no="",
            total=0,
            success_count=0,
            fail_count=0,
            duration_ms=1.0,
        )
    )
    with database.session() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [(r.door, r.outcome, r.client_id) for r in rows] == [
        ("native", "0", "H330100001"),
        ("native", "4", "H330100001"),
    ]
    ok, refused = (orjson.loads(r.body) for r in rows)
    assert ok["subtype"][0]["code"] == "vte.case.upload"
    assert {"system": "https://fhir.vte-region.cn/ig/sid/org-uscc", "value": org} in [
        a["who"].get("identifier") for a in ok["agent"]
    ]
    details = {e["name"]: e["detail"][0]["valueString"] for e in ok["entity"] if "name" in e}
    assert details["batchNo"] == "B1" and details["counts"] == "total=3,success=2,fail=1"
    assert refused["agent"][0]["who"]["display"].endswith("(not authenticated)")
    assert refused["agent"][0]["network"]["address"] == "10.0.0.9"


def _rows(database: Database) -> list[dict[str, Any]]:
    """Every stored event, oldest first (each committed before its request was answered)."""
    with database.session() as session:
        return [
            orjson.loads(r.body)
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
        ]


def test_every_request_through_the_door_is_recorded_refusals_included(
    client: TestClient, database: Database, settings: Settings
) -> None:
    base = settings.public_base_url
    researcher = register(database, "researcher", scopes="system/Observation.rs")
    token = get_token(client, researcher, base, "system/Observation.rs")  # 1: token
    assert (
        client.post("/auth/token", data={"grant_type": "client_credentials"}).status_code == 400
    )  # 2
    assert client.get("/fhir/Observation").status_code == 401  # 3: no token
    assert (
        client.get("/fhir/Observation", headers={"Authorization": "Bearer forged"}).status_code
        == 401
    )  # 4
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/fhir/Patient", headers=auth).status_code == 403  # 5: scope
    assert client.get("/fhir/AuditEvent", headers=auth).status_code == 403  # 6: role
    assert (
        client.get("/fhir/Observation?birthdate=1950", headers=auth).status_code == 403
    )  # 7: research param
    assert (
        client.post("/fhir", headers=auth, json={"resourceType": "Bundle"}).status_code == 403
    )  # 8: role
    client.get("/fhir/metadata")  # discovery documents are not audited
    client.get("/healthz")
    events = _rows(database)
    assert len(events) == 8
    assert [e["outcome"] for e in events] == ["0", "4", "4", "4", "4", "4", "4", "4"]
    assert events[0]["type"]["code"] == "110114"
    assert events[0]["agent"][0]["altId"] == researcher.client_id
    assert events[5]["agent"][0]["altId"] == researcher.client_id
    assert events[5]["purposeOfEvent"][0]["coding"][0]["code"] == "HRESCH"
    query = next(e for e in events[6]["entity"] if "query" in e)["query"]
    assert base64.b64decode(query).decode() == "GET /fhir/Observation?birthdate=1950"
    assert events[2]["agent"][0]["who"]["display"] == "anonymous (not authenticated)"


ID = "11010519491231002X"


def test_identifiers_and_identity_numbers_in_queries_are_masked_after_decoding(
    client: TestClient, database: Database, settings: Settings
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/Patient.rs")
    auth = {
        "Authorization": f"Bearer {get_token(client, hospital, settings.public_base_url, 'system/Patient.rs')}"
    }
    searches = [
        {"identifier": f"urn:oid:2.16.156.10011.1.3|{ID}"},  # httpx sends the bar as %7C
        {"_content": f"{ID[:6]} {ID[6:14]} {ID[14:]}"},  # grouped with spaces, not a personal param
        {"name": "张三"},
    ]
    for params in searches:
        client.get("/fhir/Patient", params=params, headers=auth)
    bodies = " ".join(str(e) for e in _rows(database))
    queries = [
        base64.b64decode(ent["query"]).decode()
        for e in _rows(database)
        for ent in e.get("entity", [])
        if "query" in ent
    ]
    assert queries == [
        "GET /fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|[masked]",
        "GET /fhir/Patient?_content=[identity-number]",
        "GET /fhir/Patient?name=[masked]",
    ]
    for leak in (ID, ID[6:14], "%7C" + ID, "张三"):
        assert leak not in bodies and all(leak not in q for q in queries)


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123.X_9", True), (ID, False), ("<script>", False), ("a" * 65, False), ("", False)],
)
def test_only_a_safe_request_id_is_echoed_and_audited(
    client: TestClient, database: Database, given: str, kept: bool
) -> None:
    response = client.get("/fhir/Patient", headers={"X-Request-ID": given})
    echoed = response.headers["X-Request-ID"]
    assert (echoed == given) is kept
    if not kept:
        assert len(echoed) == 32 and int(echoed, 16) >= 0  # a fresh uuid4 hex
    (event,) = _rows(database)
    details = {e["name"]: e["detail"][0]["valueString"] for e in event["entity"] if "name" in e}
    assert details["requestId"] == echoed
    if given and not kept:
        assert given not in str(event)


def test_native_gateway_requests_are_audited_through_the_app_hook(
    client: TestClient, database: Database
) -> None:
    assert (
        client.post("/vte-x/v1/gateway", content=b"not json").status_code == 200
    )  # VTE-X always answers 200
    assert client.post("/vte-x/v1/gateway", json={"appId": "H1"}).status_code == 200
    events = [e for e in _rows(database) if e["type"]["code"] == "110107"]
    assert len(events) == 2
    assert all(e["outcome"] == "4" for e in events)
    assert all(e["agent"][0]["who"]["display"].endswith("(not authenticated)") for e in events)
