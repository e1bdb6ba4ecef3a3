"""``/metrics``: Prometheus text for loopback scrapers and admins only; requests, codes, queues, latency."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from smart_kit import admitted_org, get_token, register

from facade.app import create_app
from facade.db import Database
from facade.native.tables import IntakeBatch, IntakeRecord
from facade.settings import Settings
from facade.upstream import UpstreamClient

LOCAL = ("127.0.0.1", 50111)
REMOTE = ("198.51.100.7", 50111)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def app(settings: Settings, database: Database) -> Iterator[object]:
    """The facade with no reachable HAPI (metrics need none)."""
    offline = settings.model_copy(update={"fhir_base_url": "http://127.0.0.1:9/fhir"})
    yield create_app(offline, database=database, record_processor=None)


def scrape(app: object, peer: tuple[str, int] = LOCAL, **headers: str) -> httpx.Response:
    with TestClient(app, client=peer) as http:  # type: ignore[arg-type]
        return http.get("/metrics", headers=headers)


def test_loopback_scrape_counts_requests_native_codes_and_the_queue(
    app: object, database: Database
) -> None:
    before = samples(scrape(app).text)
    with TestClient(app, client=REMOTE) as http:  # type: ignore[arg-type]
        assert http.post("/vte-x/v1/gateway", content=b"{").status_code == 200  # 2003 reply
        assert http.get("/fhir/metadata").status_code == 200
    now = datetime.now(UTC)
    with database.session() as session:
        session.add(
            IntakeBatch(
                id="b1",
                app_id="A1234",
                org_code="X" * 18,
                service_code="VTE.CASE.UPLOAD",
                batch_no="B1",
                payload_digest="d",
                reply_biz="{}",
                total=3,
                success_count=3,
                fail_count=0,
            )
        )
        session.flush()
        for n, (status, age) in enumerate([("accepted", 90), ("accepted", 5), ("stored", 999)]):
            session.add(
                IntakeRecord(
                    receipt_id=f"R{n}",
                    batch_id="b1",
                    record_index=n,
                    app_id="A1234",
                    org_code="X" * 18,
                    service_code="VTE.CASE.UPLOAD",
                    record_id=f"Z{n}",
                    record_version=1,
                    status=status,
                    payload_digest="p",
                    attempts=0,
                    created_at=now - timedelta(seconds=age),
                )
            )
    response = scrape(app)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    after = samples(response.text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("vte_http_requests_total", door="native", outcome="2xx") == 1
    assert delta("vte_http_requests_total", door="fhir", outcome="2xx") == 1
    assert delta("vte_native_replies_total", code="2003") == 1
    assert after[("vte_intake_queue_depth", ())] == 2
    assert 85 <= after[("vte_intake_queue_lag_seconds", ())] < 300
    assert after[("vte_audit_events_stored", ())] >= 1  # the FHIR request above was audited
    assert after[("vte_audit_pending", ())] >= 0
    assert ("vte_http_request_duration_seconds_count", (("door", "fhir"),)) in after
    assert "# TYPE vte_indicator_run_duration_seconds histogram" in response.text


def test_upstream_latency_is_a_histogram_by_method_and_outcome(
    app: object, settings: Settings
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if request.url.path.endswith("metadata") else 404, json={})

    async def call() -> None:
        client = UpstreamClient(settings, transport=httpx.MockTransport(answer))
        try:
            await client.metadata()
            with pytest.raises(Exception, match="404"):
                await client.get_json("Patient/none")
        finally:
            await client.aclose()

    before = samples(scrape(app).text)
    asyncio.run(call())
    after = samples(scrape(app).text)
    for outcome in ("ok", "rejected"):
        key = (
            "vte_upstream_request_duration_seconds_count",
            (("method", "GET"), ("outcome", outcome)),
        )
        assert after[key] - before.get(key, 0.0) == 1


def test_remote_callers_need_an_admin_token(
    app: object, database: Database, settings: Settings
) -> None:
    assert scrape(app, REMOTE).status_code == 401
    # A local proxy relaying a remote request is not a local scraper.
    assert scrape(app, LOCAL, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    base = settings.public_base_url
    with TestClient(app, client=REMOTE) as http:  # type: ignore[arg-type]
        hospital = get_token(
            http, register(database, "hospital", org=admitted_org(database)), base, "system/*.rs"
        )
        admin = get_token(http, register(database, "admin"), base, "system/*.rs")
        forbidden = http.get("/metrics", headers={"Authorization": f"Bearer {hospital}"})
        allowed = http.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert forbidden.status_code == 403
    assert forbidden.json()["resourceType"] == "OperationOutcome"
    assert allowed.status_code == 200 and re.search(r"^vte_intake_queue_depth ", allowed.text, re.M)
