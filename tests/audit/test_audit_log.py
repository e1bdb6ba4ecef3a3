"""The audit outbox: recorded in the request, forwarded idempotently, retried while HAPI is down."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from smart_kit import admitted_org, get_token, random_org, register
from sqlalchemy import select, update

from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.native.audit import NativeAuditEvent
from facade.settings import Settings
from facade.upstream import UpstreamClient


class FakeHapi:
    """Answers batch Bundles of PUT AuditEvent/<id>; can be 'down'."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.down = False
        self.reject: set[str] = set()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("down")
        bundle = orjson.loads(request.content)
        answers = []
        for entry in bundle["entry"]:
            event_id = entry["request"]["url"].split("/")[1]
            if event_id in self.reject:
                answers.append({"response": {"status": "400 Bad Request"}})
                continue
            self.stored[event_id] = entry["resource"]
            answers.append({"response": {"status": "201 Created"}})
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "batch-response", "entry": answers}
        )

    def client(self, settings: Settings) -> UpstreamClient:
        return UpstreamClient(settings, transport=httpx.MockTransport(self.handler))


def _ctx(n: int) -> AuditContext:
    ctx = AuditContext(
        door="fhir",
        method="GET",
        path=f"/fhir/Patient/{n}",
        interaction="read",
        action="R",
        client_id="c1",
        role="qc",
        authenticated=True,
    )
    ctx.touch(f"Patient/{n}")
    ctx.touch_patient(f"Patient/{n}")
    return ctx


def test_flush_forwards_everything_once_and_survives_outage(
    settings: Settings, database: Database
) -> None:
    log = AuditLog(settings, database)
    hapi = FakeHapi()
    ids = [log.record(_ctx(n), 200) for n in range(250)]

    async def scenario() -> None:
        upstream = hapi.client(settings)
        hapi.down = True
        down = await log.flush(upstream)
        assert down.forwarded == 0 and down.failed > 0
        assert log.status()["pending"] == 250 and log.status()["failing"] > 0
        assert (await log.flush(upstream, due_only=True)).forwarded == 0  # backing off
        hapi.down = False
        up = await log.flush(upstream)
        assert up.forwarded == 250
        again = await log.flush(upstream)
        assert (again.forwarded, again.failed) == (0, 0)
        await upstream.aclose()

    asyncio.run(scenario())
    assert set(hapi.stored) == set(ids)
    assert log.status() == {"pending": 0, "forwarded": 250, "failing": 0, "oldest_pending": None}
    event = hapi.stored[ids[3]]
    assert event["resourceType"] == "AuditEvent" and event["id"] == ids[3]
    assert event["entity"][0]["name"] == "Patient/3"


def test_rejected_event_stays_pending_and_others_go(settings: Settings, database: Database) -> None:
    log = AuditLog(settings, database)
    hapi = FakeHapi()
    first, second = log.record(_ctx(1), 200), log.record(_ctx(2), 200)
    hapi.reject = {first}

    async def run() -> None:
        upstream = hapi.client(settings)
        result = await log.flush(upstream)
        assert (result.forwarded, result.failed) == (1, 1)
        await upstream.aclose()

    asyncio.run(run())
    assert set(hapi.stored) == {second}
    with database.session() as session:
        row = session.get(AuditRecord, first)
        assert row is not None and row.forwarded_at is None and row.attempts == 1
        assert "400" in (row.last_error or "")


def test_purge_keeps_recent_and_unforwarded(settings: Settings, database: Database) -> None:
    log = AuditLog(settings, database)
    old_forwarded, old_pending, recent = (log.record(_ctx(n), 200) for n in range(3))
    long_ago = log.cutoff(200)
    with database.session() as session:
        session.execute(
            update(AuditRecord)
            .where(AuditRecord.id.in_([old_forwarded, old_pending]))
            .values(recorded_at=long_ago)
        )
        session.execute(
            update(AuditRecord)
            .where(AuditRecord.id.in_([old_forwarded, recent]))
            .values(forwarded_at=long_ago + timedelta(seconds=1))
        )
    assert log.purge_local(log.cutoff()) == {"deleted": 1, "kept_unforwarded": 1}
    with database.session() as session:
        assert set(session.scalars(select(AuditRecord.id))) == {old_pending, recent}
    assert settings.audit_retention_days >= 180


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
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.recorded_at)))
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
    with database.session() as session:
        return [
            orjson.loads(r.body)
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.recorded_at))
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


def test_flush_waits_for_rows_another_worker_is_sending(
    settings: Settings, database: Database
) -> None:
    log = AuditLog(settings, database)
    ids = [log.record(_ctx(n), 200) for n in range(3)]
    with database.session() as session:
        session.execute(update(AuditRecord).values(lease_owner="other", lease_until=log.cutoff(-1)))

    async def scenario() -> float:
        upstream = FakeHapi().client(settings)
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def other_worker_finishes() -> None:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(log._settle, "other", ids, {})

        finisher = asyncio.create_task(other_worker_finishes())
        result = await log.flush(upstream)
        await finisher
        await upstream.aclose()
        assert result.forwarded == 0  # the other worker sent them
        return loop.time() - started

    assert asyncio.run(scenario()) >= 0.3
    assert log.status()["pending"] == 0
