"""Native intake end to end against the real HAPI server with the guide's profiles loaded.

200 generated records of every type (one organization, cases, the four assessments, prophylaxis,
VTE events) go through the real gateway as signed batches (one batch per service code: a batch
carries one record type), the forwarder drains the queue, and then:

* every receipt is STORED and every stored resource passes ``$validate`` against its profile;
* re-sending the same batches gives identical replies and creates no resource;
* a case corrected with a higher recordVersion updates its Encounter in place (same id, new
  version) and deletes the diagnosis it no longer has.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mapping_kit import Hospital, admit
from sqlalchemy import select

from facade.app import create_app
from facade.db import Database
from facade.fhir.naming import REPORTING_ORG_TAG, record_identifier_system
from facade.forward.worker import ForwardReport
from facade.ig.loader import errors_of, validate
from facade.mapping.engine import MappingEngine
from facade.mapping.samples import RandomChooser, generate_record
from facade.native.client import VteXClient
from facade.native.tables import IntakeRecord
from facade.services import services_of
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration

CASES = 39
TYPES = (
    "Organization",
    "Patient",
    "Encounter",
    "Condition",
    "Procedure",
    "RiskAssessment",
    "Observation",
    "MedicationAdministration",
)


@pytest.fixture
def live(settings: Settings, fhir_base_url: str, ig_loaded: dict[str, int]) -> Settings:
    assert ig_loaded["StructureDefinition"] > 0
    return ensure_secrets(settings).model_copy(
        update={
            "fhir_base_url": fhir_base_url,
            "forward_enabled": False,
            "upstream_timeout_seconds": 120.0,
        }
    )


@pytest.fixture
def http(live: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(live, database=database)) as client:
        yield client


def build_region(engine: MappingEngine, org_code: str, run: str) -> dict[str, list[dict[str, Any]]]:
    """200 records: 1 organization, 39 cases, 4 records per case, 2 Wells scores, 2 VTE events."""
    chooser = RandomChooser(20261122)
    batches: dict[str, list[dict[str, Any]]] = {}

    def add(record_type: str, **overrides: Any) -> dict[str, Any]:
        rt = engine.record_type(record_type)
        linked = overrides.pop("linked", None)
        record = generate_record(
            engine, rt, chooser, org_code=org_code, overrides=overrides, linked=linked
        )
        batches.setdefault(rt.service_code, []).append(record)
        return record

    add("organization", recordId=org_code, recordVersion=1)
    for n in range(CASES):
        case = add("case", recordId=f"ZY-{run}-{n}", recordVersion=1, patientId=f"P-{run}-{n}")
        stay = {
            "caseRecordId": {k: case.get(k) for k in ("admissionDateTime", "dischargeDateTime")}
        }
        for kind in ("vte-risk", "bleeding-risk", "mech-contraindication", "prophylaxis"):
            add(
                kind,
                recordId=f"{kind}-{run}-{n}",
                recordVersion=1,
                caseRecordId=case["recordId"],
                linked=stay,
            )
        if n < 2:
            add(
                "wells",
                recordId=f"W-{run}-{n}",
                recordVersion=1,
                caseRecordId=case["recordId"],
                linked=stay,
            )
            add(
                "vte-event",
                recordId=f"E-{run}-{n}",
                recordVersion=1,
                caseRecordId=case["recordId"],
                linked=stay,
            )
    return batches


ORDER = (
    "VTE.ORG.UPLOAD",
    "VTE.CASE.UPLOAD",
    "VTE.RISK.UPLOAD",
    "VTE.BLEED.UPLOAD",
    "VTE.MECHCI.UPLOAD",
    "VTE.WELLS.UPLOAD",
    "VTE.PREVENT.UPLOAD",
    "VTE.OUTCOME.UPLOAD",
)


def upload_all(
    vx: VteXClient, batches: dict[str, list[dict[str, Any]]], run: str
) -> dict[str, Any]:
    replies = {}
    for service in ORDER:
        reply = vx.upload(service, f"{run}-{service.split('.')[1]}", batches[service])
        assert reply.code == "0", reply.members
        replies[service] = reply.payload
    return replies


def failures(database: Database) -> list[tuple[str, str, str | None]]:
    """Receipts that did not reach HAPI, with the reason (shown when the test fails)."""
    with database.session() as session:
        rows = session.execute(
            select(IntakeRecord.service_code, IntakeRecord.record_id, IntakeRecord.reason).where(
                IntakeRecord.status != "stored"
            )
        )
        return [(service, record_id, reason) for service, record_id, reason in rows]


def drain(http: TestClient) -> ForwardReport:
    forwarder = services_of(http.app).forwarder  # type: ignore[arg-type]
    assert forwarder is not None
    assert http.portal is not None
    report: ForwardReport = http.portal.call(forwarder.drain)
    return report


async def _counts(upstream: UpstreamClient, org_code: str) -> dict[str, int]:
    tag = f"{REPORTING_ORG_TAG}|{org_code}"
    counts = await asyncio.gather(*(upstream.count(t, {"_tag": tag}) for t in TYPES))
    return dict(zip(TYPES, counts, strict=True))


async def _validate_all(upstream: UpstreamClient, org_code: str) -> tuple[int, list[str]]:
    tag = f"{REPORTING_ORG_TAG}|{org_code}"
    resources = []
    for kind in TYPES:
        resources += [r async for r in upstream.iter_search(kind, {"_tag": tag, "_count": "200"})]
    gate = asyncio.Semaphore(4)

    async def one(resource: dict[str, Any]) -> list[str]:
        async with gate:
            outcome = await validate(upstream, resource, resource["meta"]["profile"][0])
        where = f"{resource['resourceType']}/{resource['id']}"
        return [f"{where}: {issue.get('diagnostics')}" for issue in errors_of(outcome)]

    problems = await asyncio.gather(*(one(r) for r in resources))
    return len(resources), [p for found in problems for p in found]


def run(upstream_settings: Settings, job: Any) -> Any:
    async def go() -> Any:
        upstream = UpstreamClient(upstream_settings)
        try:
            return await job(upstream)
        finally:
            await upstream.aclose()

    return asyncio.run(go())


def test_200_records_are_stored_valid_idempotent_and_correctable(
    live: Settings, database: Database, http: TestClient
) -> None:
    engine = MappingEngine.from_settings(live)
    hospital: Hospital = admit(live, database)
    tag = uuid.uuid4().hex[:8]
    batches = build_region(engine, hospital.org_code, tag)
    assert sum(len(records) for records in batches.values()) == 200
    vx = hospital.client(http)

    started = time.perf_counter()
    replies = upload_all(vx, batches, tag)
    uploaded = time.perf_counter() - started
    for service, payload in replies.items():
        assert payload["status"] == "ALL_SUCCESS", (service, payload)
    report = drain(http)
    forwarded = time.perf_counter() - started - uploaded
    assert (report.stored, report.failed, report.released) == (200, 0, 0), failures(database)
    for service in ORDER:
        view = vx.query_batch(f"{tag}-{service.split('.')[1]}").payload
        assert view is not None
        assert view["storage"] == {"accepted": 0, "stored": len(batches[service]), "failed": 0}
        assert {r["receiptStatus"] for r in view["results"]} == {"STORED"}

    total, problems = run(live, lambda up: _validate_all(up, hospital.org_code))
    assert problems == []
    counts = run(live, lambda up: _counts(up, hospital.org_code))
    assert total == sum(counts.values())
    assert counts["Encounter"] == CASES and counts["Patient"] == CASES
    assert counts["Organization"] == 1

    # the same batches again: identical replies, nothing new in HAPI
    assert upload_all(vx, batches, tag) == replies
    assert drain(http).claimed == 0
    assert run(live, lambda up: _counts(up, hospital.org_code)) == counts

    # a case corrected with a higher recordVersion updates in place
    case = next(c for c in batches["VTE.CASE.UPLOAD"] if len(c.get("diagnoses", [])) >= 2)
    system = record_identifier_system(hospital.org_code, "case")
    before = run(
        live, lambda up: up.get_json("Encounter", {"identifier": f"{system}|{case['recordId']}"})
    )
    [old] = [e["resource"] for e in before["entry"]]
    corrected = {
        **case,
        "recordVersion": 2,
        "diagnoses": case["diagnoses"][:1],
        "inpatientNo": "CORRECTED",
    }
    reply = vx.upload("VTE.CASE.UPLOAD", f"{tag}-fix", [corrected])
    assert reply.payload is not None and reply.payload["results"][0]["status"] == "SUCCESS"
    assert drain(http).stored == 1
    after = run(
        live, lambda up: up.get_json("Encounter", {"identifier": f"{system}|{case['recordId']}"})
    )
    [new] = [e["resource"] for e in after["entry"]]
    assert new["id"] == old["id"]
    assert int(new["meta"]["versionId"]) == int(old["meta"]["versionId"]) + 1
    assert {
        "system": record_identifier_system(hospital.org_code, "inpatient-no"),
        "value": "CORRECTED",
    } in new["identifier"]
    diagnoses = run(
        live,
        lambda up: up.count(
            "Condition",
            {
                "encounter": f"Encounter/{new['id']}",
                "_tag": f"{REPORTING_ORG_TAG}|{hospital.org_code}",
            },
        ),
    )
    assert diagnoses == 1 + sum(
        1 for e in batches["VTE.OUTCOME.UPLOAD"] if e["caseRecordId"] == case["recordId"]
    )
    # a device measure corrected into a drug: the Procedure goes, a MedicationAdministration comes
    measure = next(m for m in batches["VTE.PREVENT.UPLOAD"] if m["category"] != "3")
    drug = {
        "recordId": measure["recordId"],
        "recordVersion": 2,
        "caseRecordId": measure["caseRecordId"],
        "category": "3",
        "drugCode": "01",
        "dose": 40,
        "doseUnit": "mg",
        "route": "401",
        "orderDateTime": measure["orderDateTime"],
        "status": "4",
    }
    reply = vx.upload("VTE.PREVENT.UPLOAD", f"{tag}-drug", [drug])
    assert reply.payload is not None and reply.payload["results"][0]["status"] == "SUCCESS"
    assert drain(http).stored == 1
    key = f"{record_identifier_system(hospital.org_code, 'prophylaxis')}|{measure['recordId']}"
    assert run(live, lambda up: up.count("Procedure", {"identifier": key})) == 0
    assert run(live, lambda up: up.count("MedicationAdministration", {"identifier": key})) == 1

    # the corrected version sent again in another batch: a duplicate, no new receipt
    again = vx.upload("VTE.CASE.UPLOAD", f"{tag}-fix-again", [corrected]).payload
    assert again is not None and again["results"][0]["status"] == "DUPLICATE"
    assert drain(http).claimed == 0
    assert uploaded < 60 and forwarded < 120, (uploaded, forwarded)
