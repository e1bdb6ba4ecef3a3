"""The forwarder against a scripted FHIR server (unit level): bundles, isolation, retries, corrections.

The real HAPI path is covered by tests/integration/test_native_end_to_end.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from mapping_kit import Hospital, admit
from sqlalchemy import event, select
from typer.testing import CliRunner

from facade.app import create_app
from facade.cli.main import app as cli
from facade.db import Database
from facade.errors import UpstreamRejected
from facade.forward.doorbell import Doorbell
from facade.forward.ids import derived_id
from facade.forward.worker import Forwarder, ForwardReport, reason_text
from facade.native.client import VteXClient
from facade.native.receipts import ReceiptQueue
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.native.tables import IntakeRecord
from facade.services import services_of
from facade.settings import Settings, ensure_secrets
from facade.synth.push import HospitalApp, PushError, PushResult, wait_stored
from facade.upstream import UpstreamClient

DATA = Path(__file__).parent.parent / "mapping" / "data"
Handler = Callable[[httpx.Request], httpx.Response]


def golden(case: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / case / "record.json").read_text(encoding="utf-8"))
    record.update(changes)
    return record


class FakeHapi:
    """Accepts transactions unless ``refuse`` says otherwise; records what it was sent."""

    def __init__(self) -> None:
        self.bundles: list[dict[str, Any]] = []
        self.searches: list[httpx.Request] = []
        self.refuse: Callable[[dict[str, Any]], int | None] = lambda bundle: None
        self.down = False
        self.stored_items: list[dict[str, Any]] = []
        self.counter = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            self.searches.append(request)
            entries = [{"resource": r, "search": {"mode": "match"}} for r in self.stored_items]
            return httpx.Response(200, json={"resourceType": "Bundle", "entry": entries})
        bundle = json.loads(request.content)
        self.bundles.append(bundle)
        status = self.refuse(bundle)
        if status is not None:
            outcome = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "processing",
                        "diagnostics": "Encounter.period.end: value '2026-01-19' is invalid",
                    }
                ],
            }
            return httpx.Response(status, json=outcome)
        results = []
        for entry in bundle["entry"]:
            self.counter += 1
            kind = entry["request"]["url"].split("?")[0].split("/")[0]
            results.append(
                {"response": {"status": "200 OK", "location": f"{kind}/{self.counter}/_history/1"}}
            )
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "transaction-response", "entry": results}
        )


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    return ensure_secrets(settings).model_copy(
        update={
            "forward_enabled": False,
            "forward_retry_base_seconds": 0.05,
            "forward_retry_max_seconds": 0.2,
            "forward_probe_seconds": 0.2,
            "forward_validate_sample_rate": 0.0,
        }
    )


@pytest.fixture
def http(quiet: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(quiet, database=database)) as client:
        yield client


@pytest.fixture
def hospital(quiet: Settings, database: Database) -> Hospital:
    return admit(quiet, database)


@pytest.fixture
def vx(http: TestClient, hospital: Hospital) -> VteXClient:
    return hospital.client(http)


@pytest.fixture
def hapi() -> FakeHapi:
    return FakeHapi()


def forward(
    settings: Settings, database: Database, hapi: FakeHapi, **updates: Any
) -> ForwardReport:
    async def run() -> ForwardReport:
        upstream = UpstreamClient(
            settings.model_copy(update=updates), transport=httpx.MockTransport(hapi)
        )
        try:
            return await Forwarder(settings.model_copy(update=updates), database, upstream).drain()
        finally:
            await upstream.aclose()

    return asyncio.run(run())


@contextlib.asynccontextmanager
async def looping(
    settings: Settings,
    database: Database,
    hapi: FakeHapi,
    *,
    doorbell: Doorbell | None = None,
    total: ForwardReport | None = None,
) -> AsyncIterator[None]:
    """A forwarder's ``run_forever`` against ``hapi`` while the block runs; stopped after it."""
    upstream = UpstreamClient(settings, transport=httpx.MockTransport(hapi))
    stop = asyncio.Event()
    forwarder = Forwarder(settings, database, upstream, doorbell=doorbell)
    loop = asyncio.create_task(forwarder.run_forever(stop, total))
    try:
        yield
    finally:
        stop.set()
        await loop
        await upstream.aclose()


async def seconds_until_all_stored(database: Database, since: float, limit: float = 5.0) -> float:
    """Poll until every receipt is stored; the seconds since ``since`` (failing past ``limit``)."""
    while any(s != "stored" for s, _ in statuses(database).values()):
        assert time.monotonic() - since < limit, statuses(database)
        await asyncio.sleep(0.05)
    return time.monotonic() - since


def statuses(database: Database) -> dict[str, tuple[str, str | None]]:
    with database.session() as session:
        rows = session.execute(
            select(IntakeRecord.record_id, IntakeRecord.status, IntakeRecord.reason)
        )
        return {record_id: (status, reason) for record_id, status, reason in rows}


def _kind(url: str) -> str:
    return url.split("?")[0].split("/")[0]


def cases(hospital: Hospital, count: int) -> list[dict[str, Any]]:
    return [
        golden(
            "case-discharged",
            orgCode=hospital.org_code,
            recordId=f"ZY{n:04d}",
            patientId=f"P{n:04d}",
        )
        for n in range(count)
    ]


def test_records_are_written_in_bounded_transactions(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 12)).code == "0"
    report = forward(quiet, database, hapi, forward_bundle_max_entries=12)
    assert (report.stored, report.failed, report.released) == (12, 0, 0)
    assert all(len(b["entry"]) <= 12 for b in hapi.bundles)
    assert len(hapi.bundles) == 6  # 5 resources per case: two cases per transaction
    assert {s for s, _ in statuses(database).values()} == {"stored"}
    with database.session() as session:
        refs = set(session.scalars(select(IntakeRecord.result_ref)))
    assert all(ref and ref.startswith("Encounter/") for ref in refs)


def test_one_bad_record_does_not_fail_the_good_ones_of_its_bundle(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 5)).code == "0"
    hapi.refuse = lambda bundle: 422 if "ZY0003" in json.dumps(bundle) else None
    report = forward(quiet, database, hapi)
    assert (report.stored, report.failed) == (4, 1)
    status, reason = statuses(database)["ZY0003"]
    assert status == "failed" and reason is not None
    assert "Encounter.period.end" in reason and "2026-01-19" not in reason  # no quoted values
    assert all(s == "stored" for r, (s, _) in statuses(database).items() if r != "ZY0003")


def test_hapi_down_delays_storage_and_loses_nothing(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 3)).code == "0"
    hapi.down = True
    report = forward(quiet, database, hapi)
    assert report.upstream_down and (report.stored, report.failed, report.released) == (0, 0, 3)
    assert {s for s, _ in statuses(database).values()} == {"accepted"}
    hapi.down = False
    # Back in the queue after one probe interval (the loop's probe decides when to try again).
    assert forward(quiet, database, hapi).stored == 0
    asyncio.run(asyncio.sleep(0.3))
    assert forward(quiet, database, hapi).stored == 3
    with database.session() as session:
        assert set(session.scalars(select(IntakeRecord.attempts))) == {2}


def test_the_loop_resumes_within_a_probe_interval_of_hapi_coming_back(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    """The backoff after an outage is 30 s here; HAPI comes back after 0.6 s and the records are
    stored within a few seconds because the loop probes HAPI while it backs off."""
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 3)).code == "0"
    patient = quiet.model_copy(
        update={"forward_retry_base_seconds": 30.0, "forward_retry_max_seconds": 60.0}
    )
    hapi.down = True

    total = ForwardReport()

    async def scenario() -> float:
        async with looping(patient, database, hapi, total=total):
            await asyncio.sleep(0.6)
            assert hapi.bundles == [] and hapi.down  # the first write met the outage
            hapi.down = False
            return await seconds_until_all_stored(database, since=time.monotonic())

    assert asyncio.run(scenario()) < 5.0
    assert {s for s, _ in statuses(database).values()} == {"stored"}
    # what `vte-facade forward` prints when stopped: every round of the loop added up
    assert (total.claimed, total.released, total.stored, total.upstream_down) == (6, 3, 3, True)


def test_a_case_and_its_assessment_in_one_transaction_are_linked_by_full_url(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 1)).code == "0"
    risk = golden("vte-risk-caprini", caseRecordId="ZY0000")
    assert vx.upload("VTE.RISK.UPLOAD", "B2", [risk]).code == "0"
    assert forward(quiet, database, hapi).stored == 2
    [bundle] = hapi.bundles
    urls = {_kind(e["request"]["url"]): e["fullUrl"] for e in bundle["entry"]}
    assessment = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RiskAssessment"
    )
    assert assessment["encounter"]["reference"] == urls["Encounter"]
    assert assessment["subject"]["reference"] == urls["Patient"]


def test_a_round_looks_up_the_cases_its_records_link_to_together(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 3)).code == "0"
    risks = [
        golden("vte-risk-caprini", recordId=f"RA{n}", caseRecordId=f"ZY{n:04d}") for n in range(3)
    ]
    assert vx.upload("VTE.RISK.UPLOAD", "B2", risks).code == "0"
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM mapping_fact" in statement:  # the facts of the live receipts
            lookups.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        report = forward(quiet, database, hapi)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert (report.stored, report.transactions) == (6, 1)
    assert len(lookups) == 1  # three assessments of three cases: one query, not three
    patients = {
        e["resource"]["subject"]["reference"]
        for e in hapi.bundles[0]["entry"]
        if e["resource"]["resourceType"] == "RiskAssessment"
    }
    assert len(patients) == 3  # each linked to its own case's patient


def test_an_assessment_whose_case_is_still_on_its_way_waits(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 1)).code == "0"
    risk = golden("vte-risk-caprini", caseRecordId="ZY0000")
    assert vx.upload("VTE.RISK.UPLOAD", "B2", [risk]).code == "0"
    # the case meets a busy server (409, retried later), the assessment a missing reference (400)
    hapi.refuse = lambda bundle: (
        409 if any(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"]) else 400
    )
    slow = {"forward_claim_size": 1, "forward_retry_base_seconds": 0.4}
    # the case: 409, back in 0.4 s; the assessment alone: 400, but its case waits, so it waits
    first = forward(quiet, database, hapi, **slow)
    assert (first.released, first.failed) == (2, 0)
    assert (first.conflicts, first.link_waits) == (1, 1)  # why each was given back
    assert "RiskAssessment" in json.dumps(hapi.bundles[-1])
    assert "Encounter" not in [e["resource"]["resourceType"] for e in hapi.bundles[-1]["entry"]]
    assert {s for s, _ in statuses(database).values()} == {"accepted"}
    hapi.refuse = lambda bundle: None
    asyncio.run(asyncio.sleep(1.0))
    forward(quiet, database, hapi)
    assert {s for s, _ in statuses(database).values()} == {"stored"}


def test_an_assessment_whose_case_another_process_stores_meanwhile_waits(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    """Two forwarder processes: the other one holds the case and commits it while this one's
    transaction with the assessment is in HAPI, which checked the reference just before."""
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 1)).code == "0"
    risk = golden("vte-risk-caprini", caseRecordId="ZY0000")
    assert vx.upload("VTE.RISK.UPLOAD", "B2", [risk]).code == "0"
    queue = ReceiptQueue(database, SecretBox.for_purpose(quiet, RECORD_PAYLOADS))
    [other] = queue.claim(limit=1)  # the other process leases the case (the oldest record)
    assert other.record_id == "ZY0000"

    def refuse_then_other_commits(bundle: dict[str, Any]) -> int:
        queue.mark_stored_many([(other.receipt_id, other.lease_token, "Encounter/1")])
        return 400

    hapi.refuse = refuse_then_other_commits
    report = forward(quiet, database, hapi, forward_retry_base_seconds=0.3)
    assert (report.link_waits, report.failed, report.released) == (1, 0, 1)
    assert statuses(database)[risk["recordId"]][0] == "accepted"
    # Stored well before a later send, the case no longer explains a refusal: that one fails.
    hapi.refuse = lambda bundle: 400
    asyncio.run(asyncio.sleep(1.5))
    report = forward(quiet, database, hapi)
    assert (report.link_waits, report.failed) == (0, 1)
    assert statuses(database)[risk["recordId"]][0] == "failed"


def test_a_correction_deletes_items_it_no_longer_has(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    record = cases(hospital, 1)[0]
    assert vx.upload("VTE.CASE.UPLOAD", "B1", [record]).code == "0"
    forward(quiet, database, hapi)
    system = f"https://fhir.vte-region.cn/ig/sid/record/{hospital.org_code}/case"
    hapi.stored_items = [
        {
            "resourceType": "Condition",
            "id": "c1",
            "identifier": [{"system": system, "value": "ZY0000/diagnoses/1"}],
        },
        {
            "resourceType": "Condition",
            "id": "c2",
            "identifier": [{"system": system, "value": "ZY0000/diagnoses/2"}],
        },
    ]
    corrected = {**record, "recordVersion": 2, "diagnoses": record["diagnoses"][:1]}
    assert vx.upload("VTE.CASE.UPLOAD", "B2", [corrected]).code == "0"
    assert forward(quiet, database, hapi).stored == 1
    last = hapi.bundles[-1]
    deletes = [e["request"]["url"] for e in last["entry"] if e["request"]["method"] == "DELETE"]
    assert deletes == ["Condition/c2"]
    search = hapi.searches[0]
    assert search.url.params["encounter.identifier"] == f"{system}|ZY0000"


def test_reason_text_keeps_conditional_urls_and_drops_values() -> None:
    error = UpstreamRejected(
        "Invalid match URL \"Encounter?identifier=x|ZY1\" - no match; birthDate '1949-12-31'",
        upstream_status=412,
    )
    text = reason_text(error)
    assert "Encounter?identifier=x|ZY1" in text and "1949-12-31" not in text and "412" in text
    invariant = UpstreamRejected(
        "Constraint failed: vte-item-1: 'An assessment item has a code or a text'",
        upstream_status=422,
    )
    assert "An assessment item has a code or a text" in reason_text(invariant)


def test_cli_forward_once_reports_and_keeps_records_when_hapi_is_down(
    vx: VteXClient, hospital: Hospital, quiet: Settings, tmp_path: Path
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 2)).code == "0"
    env = {
        "VTE_VAR_DIR": str(quiet.var_dir),
        "VTE_DATABASE_URL": quiet.database_url,
        "VTE_FHIR_BASE_URL": "http://127.0.0.1:9/fhir",  # nothing listens on the discard port
        "VTE_UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1",
    }
    result = CliRunner().invoke(cli, ["forward", "--once", "--json"], env=env)
    assert result.exit_code == 2, result.output
    report = json.loads(result.output)
    assert report["upstreamDown"] is True and report["released"] == 2
    assert report["queue"] == {"accepted": 2, "stored": 0, "failed": 0}


def test_a_correction_that_changes_the_resource_type_deletes_the_old_one(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 1)).code == "0"
    device = golden("prophylaxis-mechanical", caseRecordId="ZY0000")
    assert vx.upload("VTE.PREVENT.UPLOAD", "B2", [device]).code == "0"
    forward(quiet, database, hapi)
    drug = {
        **golden("prophylaxis-drug-not-given", caseRecordId="ZY0000"),
        "recordId": device["recordId"],
    }
    assert vx.upload("VTE.PREVENT.UPLOAD", "B3", [{**drug, "recordVersion": 2}]).code == "0"
    assert forward(quiet, database, hapi).stored == 1
    system = f"https://fhir.vte-region.cn/ig/sid/record/{hospital.org_code}/prophylaxis"
    entries = hapi.bundles[-1]["entry"]
    old = derived_id(f"Procedure?identifier={system}|PX-001205")
    assert entries[0]["request"] == {"method": "DELETE", "url": f"Procedure/{old}"}
    assert entries[1]["request"]["url"].startswith("MedicationAdministration/")


def test_forward_status_shows_backlog_rate_and_failures_by_reason(
    vx: VteXClient, hospital: Hospital, quiet: Settings, database: Database, hapi: FakeHapi
) -> None:
    env = {"VTE_VAR_DIR": str(quiet.var_dir), "VTE_DATABASE_URL": quiet.database_url}

    def status() -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["forward", "status", "--json"], env=env)
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 6)).code == "0"
    waiting = status()
    assert waiting["queue"] == {"accepted": 6, "stored": 0, "failed": 0}
    assert waiting["oldestAcceptedSeconds"] >= 0 and waiting["drainEtaSeconds"] is None
    assert waiting["storedPerSecond"]["1m"] == 0
    hapi.refuse = lambda bundle: 422 if "ZY0001" in json.dumps(bundle) else None
    forward(quiet, database, hapi)
    done = status()
    assert done["queue"] == {"accepted": 0, "stored": 5, "failed": 1}
    assert done["oldestAcceptedSeconds"] is None
    assert done["storedPerSecond"] == {
        "1m": round(5 / 60, 2),
        "5m": round(5 / 300, 2),
        "15m": round(5 / 900, 2),
    }
    [failure] = done["failuresByReason"]
    assert failure["records"] == 1 and "(422)" in failure["reason"]
    assert done["validationAlarms"] == {"count": 0, "last": None}
    assert done["idScheme"] == "derived"


def test_synth_push_waits_while_records_are_stored_and_gives_up_only_on_a_stall(
    http: TestClient,
    vx: VteXClient,
    hospital: Hospital,
    quiet: Settings,
    database: Database,
    hapi: FakeHapi,
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", cases(hospital, 3)).code == "0"
    sent = PushResult(batches={hospital.org_code: ["B1"]}, records=3)
    apps = {hospital.org_code: HospitalApp(hospital.org_code, hospital.app_id, hospital.secret)}
    seen: list[tuple[int, int]] = []
    with pytest.raises(PushError, match="no record stored for 1 s"):
        wait_stored(sent, apps, http, stall_seconds=0.6, interval=0.1, progress=lambda *p: None)
    forward(quiet, database, hapi)
    wait_stored(
        sent, apps, http, stall_seconds=0.6, interval=0.1, progress=lambda *p: seen.append(p)
    )
    assert seen == [(3, 3)]


def test_an_idle_loop_forwards_an_upload_as_soon_as_the_gateway_accepts_it(
    http: TestClient,
    vx: VteXClient,
    hospital: Hospital,
    quiet: Settings,
    database: Database,
    hapi: FakeHapi,
) -> None:
    """The loop idles 30 s here after finding the queue empty; the gateway's doorbell ends the
    wait, so the batch is forwarded within a few seconds of its reply."""
    forwarder = services_of(http.app).forwarder  # type: ignore[arg-type]
    assert forwarder is not None
    patient = quiet.model_copy(update={"forward_idle_seconds": 30.0})

    async def scenario() -> float:
        async with looping(patient, database, hapi, doorbell=forwarder.doorbell):
            await asyncio.sleep(0.5)  # the first round found nothing: the loop is waiting
            assert hapi.bundles == []
            reply = await asyncio.to_thread(vx.upload, "VTE.CASE.UPLOAD", "B1", cases(hospital, 3))
            assert reply.code == "0"
            return await seconds_until_all_stored(database, since=time.monotonic())

    assert asyncio.run(scenario()) < 5.0
    assert len(hapi.bundles) == 1
