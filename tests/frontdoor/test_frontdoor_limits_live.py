"""Intake limits against the real HAPI: the issue's nesting depths are refused fast, audited, and leave
HAPI idle; HAPI's own limit refuses the same bodies when the facade is bypassed.

Measured, not assumed, from /proc/<pid> of HAPI (the launcher knows the pid): within one second of
the answer a 250 ms window passes with none of HAPI's request threads runnable (a validator still at
work would keep one runnable however loaded the machine), and the request cost HAPI plus the facade
less than one CPU-second. The wall-clock second is stretched by the run queue on a shared machine.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import resident_id
from hapi_load import HapiMeter, nested_patient_text, patient, transaction_text, wall_budget
from smart_kit import admitted_org, get_token, register
from sqlalchemy import select

from facade.app import create_app
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.services import services_of
from facade.settings import Settings
from facade.upstream.client import UpstreamClient

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

DEPTHS = (4, 12, 50, 100, 200, 505)  # the depths of issue 10
FHIR_JSON = {"Content-Type": "application/fhir+json"}


class MeasuredHapi:
    """The HAPI server under test and its meter."""

    def __init__(self, base_url: str, pid: int) -> None:
        self.base_url = base_url
        self.meter = HapiMeter(pid)

    def cost(self, send: Callable[[], httpx.Response]) -> tuple[httpx.Response, Cost]:
        """Send one request; what it cost until HAPI was idle again."""
        hapi_before, facade_before = self.meter.cpu_seconds(), time.process_time()
        started = time.monotonic()
        response = send()
        wall = time.monotonic() - started
        facade_cpu = time.process_time() - facade_before
        idle = self.meter.idle_after(1.0)
        return response, Cost(wall, facade_cpu, self.meter.cpu_seconds() - hapi_before, idle)


@dataclass(frozen=True)
class Cost:
    """Wall time of one request, CPU it cost the facade (this process) and HAPI, and when HAPI idled."""

    wall: float
    facade_cpu: float
    hapi_cpu: float
    idle_after: float

    def assert_cheap(self, what: str, cpu: float = 1.0) -> None:
        """Answered within a second, HAPI idle again within a second, under ``cpu`` CPU-s in all.

        The figures are logged (``-o log_cli=true --log-cli-level=INFO`` shows them).
        """
        log.info("%s: %s", what, self)
        assert self.wall < wall_budget(1.0), self
        assert self.idle_after <= 1.0, self
        assert self.facade_cpu + self.hapi_cpu < cpu, self


@pytest.fixture(scope="module")
def hapi(owned_hapi: HapiLauncher, fhir_base_url: str, ig_loaded: dict[str, int]) -> MeasuredHapi:
    """A HAPI this session started (so its pid is known), with the guide loaded and the validator warm."""
    base = owned_hapi.base_url
    if base != fhir_base_url:  # FHIR_BASE_URL points elsewhere: our own server needs the guide too
        settings = Settings(environment="test", fhir_base_url=base)

        async def load() -> None:
            client = UpstreamClient(settings)
            try:
                await load_ig(
                    client, owned_hapi.settings.profiles_dir / "fsh-generated" / "resources"
                )
            finally:
                await client.aclose()

        asyncio.run(load())
    pid = owned_hapi.status().pid
    assert pid is not None
    # The first profile validation after start-up loads the validator (seconds, once); what is
    # measured here is a warm server.
    stored = patient()
    assert httpx.post(f"{base}/Patient", json=stored, timeout=120).status_code == 201
    warm = nested_patient_text(4, stored)
    httpx.post(f"{base}/Patient/$validate", content=warm, headers=FHIR_JSON, timeout=120)
    return MeasuredHapi(base, pid)


@pytest.fixture
def door(hapi: MeasuredHapi, settings: Settings, database: Database) -> Iterator[TestClient]:
    """The facade in-process, talking to the measured HAPI."""
    live = settings.model_copy(update={"fhir_base_url": hapi.base_url})
    with TestClient(create_app(live, database=database)) as client:
        yield client


@pytest.fixture
def headers(door: TestClient, database: Database, settings: Settings) -> dict[str, str]:
    """A hospital's bearer token for writes."""
    hospital = register(database, "hospital", org=admitted_org(database), scopes="system/*.crus")
    token = get_token(door, hospital, settings.public_base_url, "system/*.crus")
    return {"Authorization": f"Bearer {token}", **FHIR_JSON}


def _outbox(database: Database) -> list[AuditRecord]:
    with database.session() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _issues(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule, first expression) of each issue of a facade OperationOutcome."""
    return [
        (str(i.get("diagnostics", "")).removeprefix("rule: "), (i.get("expression") or [""])[0])
        for i in body.get("issue", [])
    ]


@pytest.mark.parametrize("depth", DEPTHS)
def test_nested_extensions_answered_4xx_within_a_second_audited_and_hapi_idle(
    depth: int,
    door: TestClient,
    headers: dict[str, str],
    database: Database,
    hapi: MeasuredHapi,
) -> None:
    limit = services_of(door.app).frontdoor.limits.max_extension_nesting
    body = transaction_text(nested_patient_text(depth, patient(resident_id())))
    before = len(_outbox(database))
    response, cost = hapi.cost(lambda: door.post("/fhir", content=body, headers=headers))
    assert 400 <= response.status_code < 500, response.text[:500]
    # Within the limit the body is forwarded and HAPI validates it twice: the transaction, then
    # $validate to name the bad entry (measured ≈0.8 CPU-s warm); refused bodies cost ≈0.1.
    forwarded = depth <= limit
    cost.assert_cheap(f"facade, nesting {depth}, {response.status_code}", 2.0 if forwarded else 1.0)
    if not forwarded:  # refused by the facade, HAPI never saw it
        assert response.status_code == 400
        rule, where = _issues(response.json())[0]
        assert rule == "max-extension-nesting"
        assert (
            where
            == "Bundle.entry[0].resource.extension[1]"
            + ".extension[0]" * (limit - 1)
            + ".extension"
        )
    else:  # within the guide's nesting: forwarded, and HAPI's validator refuses the shape
        assert response.status_code == 422
    rows = _outbox(database)
    assert len(rows) == before + 1  # the refusal is audited like every request
    assert (rows[-1].interaction, rows[-1].outcome) == ("transaction", "4")


def test_a_single_create_over_the_limits_is_refused_and_audited(
    door: TestClient, headers: dict[str, str], database: Database
) -> None:
    deep = nested_patient_text(200, patient(resident_id()))
    before = len(_outbox(database))
    response = door.post("/fhir/Patient", content=deep, headers=headers)
    assert response.status_code == 400
    assert _issues(response.json())[0][0] == "max-extension-nesting"
    huge = patient(resident_id())
    huge["extension"][0]["valueCoding"]["display"] = "x" * 10_000_000  # a 10 MB string element
    response = door.post("/fhir/Patient", json=huge, headers=headers)
    assert response.status_code == 400
    assert _issues(response.json()) == [
        ("max-string-length", "Patient.extension[0].valueCoding.display")
    ]
    rows = _outbox(database)[before:]
    assert [(r.interaction, r.outcome) for r in rows] == [("create", "4"), ("create", "4")]


def test_a_batch_entry_over_a_limit_is_refused_on_its_own(
    door: TestClient, headers: dict[str, str], hapi: MeasuredHapi
) -> None:
    marker = uuid.uuid4().hex
    good, bad = patient(resident_id()), patient(resident_id())
    bad["identifier"].append({"system": "urn:test:marker", "value": marker})
    bad["identifier"] += [{"system": "urn:test:filler", "value": str(i)} for i in range(2_000)]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": "Patient"}} for r in (good, bad)
        ],
    }
    response = door.post("/fhir", json=batch, headers=headers)
    assert response.status_code == 200, response.text[:500]
    first, second = response.json()["entry"]
    assert first["response"]["status"].startswith("201")
    assert second["response"]["status"] == "400 Bad Request"
    issue = second["response"]["outcome"]["issue"][0]
    assert (issue["code"], issue["expression"]) == ("too-costly", ["Bundle.entry[1].resource"])
    found = httpx.get(
        f"{hapi.base_url}/Patient",
        params={"identifier": f"urn:test:marker|{marker}", "_summary": "count"},
        timeout=60,
    ).json()
    assert found["total"] == 0  # never forwarded


def _stored_patient_text(depth: int) -> str:
    """A Patient as the facade would forward it (pseudonymised), nesting ``depth`` deep."""
    resource = patient()
    resource["identifier"] = [{"system": REGIONAL_PSEUDONYM_SYSTEM, "value": uuid.uuid4().hex}]
    return nested_patient_text(depth, resource)


@pytest.mark.parametrize("depth", (12, 50, 505))
def test_hapi_itself_refuses_deep_nesting_before_validating(depth: int, hapi: MeasuredHapi) -> None:
    body = _stored_patient_text(depth)
    response, cost = hapi.cost(
        lambda: httpx.post(f"{hapi.base_url}/Patient", content=body, headers=FHIR_JSON, timeout=60)
    )
    assert response.status_code == 400, response.text[:500]
    cost.assert_cheap(f"HAPI direct, nesting {depth}, {response.status_code}")
    issue = response.json()["issue"][0]
    assert issue["code"] == "too-costly"
    assert "max-extension-nesting" in issue["diagnostics"]
    assert issue["location"][0].startswith("Patient.extension[1].extension[0]")


def test_hapi_refuses_the_same_in_xml_in_transactions_and_in_validate(hapi: MeasuredHapi) -> None:
    extension = '<extension url="http://example.org/x">' * 12 + "</extension>" * 12
    xml = f'<Patient xmlns="http://hl7.org/fhir">{extension}</Patient>'
    answers = [
        httpx.post(
            f"{hapi.base_url}/Patient",
            content=xml,
            headers={"Content-Type": "application/fhir+xml", "Accept": "application/fhir+json"},
            timeout=60,
        ),
        httpx.post(
            hapi.base_url,
            content=transaction_text(_stored_patient_text(50)),
            headers=FHIR_JSON,
            timeout=60,
        ),
        httpx.post(
            f"{hapi.base_url}/Patient/$validate",
            content=_stored_patient_text(50),
            headers=FHIR_JSON,
            timeout=60,
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    locations = [a.json()["issue"][0]["location"][0] for a in answers]
    assert locations[0].startswith("Patient.extension.extension")
    assert locations[1].startswith("Bundle.entry[0].resource.extension[1]")
    assert locations[2].startswith("Patient.extension[1]")
    assert hapi.meter.idle_after(1.0) <= 1.0


def test_hapi_refuses_huge_strings_and_resources(hapi: MeasuredHapi) -> None:
    long_string = patient()
    long_string["extension"][0]["valueCoding"]["display"] = "x" * 10_000_000
    many = patient()
    many["identifier"] += [{"system": "urn:test:filler", "value": str(i)} for i in range(10_000)]
    answers = [
        httpx.post(f"{hapi.base_url}/Patient", json=r, timeout=60) for r in (long_string, many)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    diagnostics = [a.json()["issue"][0]["diagnostics"] for a in answers]
    assert "max-string-length" in diagnostics[0]
    assert "max-elements" in diagnostics[1]
    assert hapi.meter.idle_after(1.0) <= 1.0
