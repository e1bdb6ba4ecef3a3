"""The dictionary processor behind the real gateway: codes per record, pseudonyms, facts, nothing partial."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from mapping_kit import Hospital, admit
from sqlalchemy import event, func, select

from facade.app import create_app
from facade.db import Database
from facade.mapping.processor import DictionaryProcessor
from facade.mapping.tables import MappingFact
from facade.native.client import VteXClient
from facade.native.processor import IntakeContext
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.native.tables import IntakeRecord
from facade.network.tables import LinkagePseudonym
from facade.services import services_of
from facade.settings import Settings, ensure_secrets
from facade.synth.identity import resident_id

DATA = Path(__file__).parent / "data"
ID_NUMBER = "11010519491231002X"


def golden(case: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / case / "record.json").read_text(encoding="utf-8"))
    record.update(changes)
    return record


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """Secrets filled in; no background forwarder (these tests look at intake only)."""
    return ensure_secrets(settings).model_copy(update={"forward_enabled": False})


@pytest.fixture
def http(live_settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(live_settings, database=database)) as client:
        yield client


@pytest.fixture
def hospital(live_settings: Settings, database: Database) -> Hospital:
    return admit(live_settings, database)


@pytest.fixture
def vx(http: TestClient, hospital: Hospital) -> VteXClient:
    return hospital.client(http)


def case_record(
    hospital: Hospital, record_id: str = "ZY2026000123", **changes: Any
) -> dict[str, Any]:
    return golden("case-discharged", orgCode=hospital.org_code, recordId=record_id, **changes)


def receipts(database: Database) -> list[IntakeRecord]:
    with database.session() as session:
        rows = list(session.scalars(select(IntakeRecord).order_by(IntakeRecord.seq)))
        session.expunge_all()
    return rows


def test_the_app_installs_the_dictionary_processor(http: TestClient) -> None:
    processor = services_of(http.app).record_processor  # type: ignore[arg-type]
    assert isinstance(processor, DictionaryProcessor)
    assert "VTE.CASE.UPLOAD" in processor.service_codes
    assert "VTE.RISK.UPLOAD" in processor.service_codes


def test_case_is_accepted_pseudonymised_and_without_name(
    vx: VteXClient, hospital: Hospital, database: Database, live_settings: Settings
) -> None:
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)])
    assert reply.code == "0" and reply.payload is not None
    result = reply.payload["results"][0]
    assert result["status"] == "SUCCESS"
    assert [w["field"] for w in result["warnings"]] == ["records[0].vendorExtra"]
    [row] = receipts(database)
    assert row.status == "accepted"
    box = SecretBox.for_purpose(live_settings, RECORD_PAYLOADS)
    payload = orjson.loads(box.open(row.payload_sealed or b"", row.receipt_id))
    assert "patientName" not in payload and "recordVersion" not in payload
    assert "vendorExtra" not in payload
    assert len(payload["idNumber"]) == 64 and payload["idNumber"] != ID_NUMBER
    raw = json.dumps(payload, ensure_ascii=False)
    assert ID_NUMBER not in raw.upper() and "张三" not in raw


def test_3006_assessment_of_a_case_never_sent(vx: VteXClient, database: Database) -> None:
    record = golden("vte-risk-caprini", caseRecordId="ZY-UNKNOWN")
    reply = vx.upload("VTE.RISK.UPLOAD", "B2", [record])
    assert reply.payload is not None
    result = reply.payload["results"][0]
    assert (result["status"], result["code"]) == ("FAILED", "3006")
    assert result["errors"][0]["field"] == "records[0].caseRecordId"
    assert receipts(database) == []


def test_3005_assessment_after_the_discharge_of_its_case(
    vx: VteXClient, hospital: Hospital
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)]).code == "0"
    late = golden("vte-risk-caprini", assessmentDateTime="2026-01-20 08:00:00")
    good = golden("vte-risk-caprini", recordId="RA-2")
    reply = vx.upload("VTE.RISK.UPLOAD", "B2", [late, good])
    assert reply.payload is not None
    first, second = reply.payload["results"]
    assert (first["status"], first["code"]) == ("FAILED", "3005")
    assert first["errors"] == [
        {
            "field": "records[0].assessmentDateTime",
            "code": "3005",
            "msg": first["errors"][0]["msg"],
        }
    ]
    assert second["status"] == "SUCCESS"
    assert reply.payload["status"] == "PARTIAL"


def test_the_linked_case_facts_follow_its_corrections(vx: VteXClient, hospital: Hospital) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)]).code == "0"
    longer = case_record(hospital, recordVersion=2, dischargeDateTime="2026-01-25 10:00:00")
    assert vx.upload("VTE.CASE.UPLOAD", "B2", [longer]).code == "0"
    record = golden("vte-risk-caprini", assessmentDateTime="2026-01-22 08:00:00")
    reply = vx.upload("VTE.RISK.UPLOAD", "B3", [record])
    assert reply.payload is not None and reply.payload["results"][0]["status"] == "SUCCESS"


def test_3007_and_3003_come_back_together_and_nothing_is_stored(
    vx: VteXClient, hospital: Hospital, database: Database
) -> None:
    bad = case_record(hospital, idNumber="110105194912310021", sex="7")
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [bad])
    assert reply.payload is not None
    result = reply.payload["results"][0]
    assert sorted(e["code"] for e in result["errors"]) == ["3003", "3007"]
    assert "110105194912310021" not in json.dumps(reply.payload)
    assert receipts(database) == []
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(MappingFact)) == 0


def test_inapplicable_fields_are_dropped_with_a_warning(vx: VteXClient, hospital: Hospital) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)]).code == "0"
    reply = vx.upload("VTE.PREVENT.UPLOAD", "B2", [golden("prophylaxis-drug")])
    assert reply.payload is not None
    warnings = reply.payload["results"][0]["warnings"]
    assert [w["field"] for w in warnings] == ["records[0].deviceCode"]


def test_a_rejected_request_stores_nothing(
    http: TestClient, hospital: Hospital, database: Database
) -> None:
    wrong = copy.copy(hospital)
    wrong.secret = "0" * 64
    reply = wrong.client(http).upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)])
    assert reply.code == "1005"
    assert receipts(database) == []


def test_resending_a_batch_gives_the_identical_reply(
    vx: VteXClient, hospital: Hospital, database: Database
) -> None:
    batch = {"batchNo": "B7", "records": [case_record(hospital)]}
    first = vx.call("VTE.CASE.UPLOAD", batch)
    again = vx.call("VTE.CASE.UPLOAD", batch)
    assert first.payload == again.payload
    assert len(receipts(database)) == 1


def test_a_batch_looks_up_its_linked_case_once(
    vx: VteXClient, hospital: Hospital, database: Database
) -> None:
    assert vx.upload("VTE.CASE.UPLOAD", "B1", [case_record(hospital)]).code == "0"
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM mapping_fact" in statement and "intake_record" in statement:
            lookups.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        records = [golden("vte-risk-caprini", recordId=f"RA-{n}") for n in range(4)]
        reply = vx.upload("VTE.RISK.UPLOAD", "B2", records)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert reply.payload is not None
    assert [r["status"] for r in reply.payload["results"]] == ["SUCCESS"] * 4
    assert len(lookups) == 1  # four assessments of one case: the case is read once


def test_a_batch_reads_its_links_together_and_writes_what_it_keeps_once(
    vx: VteXClient, hospital: Hospital, database: Database
) -> None:
    """Three cases of three patients, then one assessment of each: one look-up for the three
    cases, one INSERT of facts per batch and one of linkage pairs, whatever the batch's size."""
    # three people born on the golden case's birth date (the rules compare the two)
    ids = [resident_id("110105", date(1949, 12, 31), 300 + n, male=True) for n in range(3)]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        cases = [
            case_record(hospital, f"ZY{n}", patientId=f"P{n}", idNumber=number)
            for n, number in enumerate(ids)
        ]
        assert vx.upload("VTE.CASE.UPLOAD", "B1", cases).code == "0"
        case_statements = list(statements)
        statements.clear()
        risks = [
            golden("vte-risk-caprini", recordId=f"RA-{n}", caseRecordId=f"ZY{n}") for n in range(3)
        ]
        reply = vx.upload("VTE.RISK.UPLOAD", "B2", risks)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert reply.payload is not None
    assert [r["status"] for r in reply.payload["results"]] == ["SUCCESS"] * 3, reply.payload

    def count(found: list[str], *words: str) -> int:
        return sum(all(w in s for w in words) for s in found)

    assert count(case_statements, "INSERT INTO mapping_fact") == 1
    assert count(case_statements, "INSERT INTO linkage_pseudonym") == 1
    assert count(case_statements, "INSERT INTO intake_record") == 1
    assert count(statements, "FROM mapping_fact", "intake_record") == 1
    with database.session() as session:
        facts = session.scalar(select(func.count()).select_from(MappingFact))
        pairs = session.scalar(select(func.count()).select_from(LinkagePseudonym))
    assert (facts, pairs) == (3, 3)  # facts of each case (assessments keep none), a pair a person


def test_a_batch_refused_whole_keeps_no_facts_and_no_pairs(
    live_settings: Settings, database: Database, hospital: Hospital
) -> None:
    processor = DictionaryProcessor.from_settings(live_settings, database)
    context = IntakeContext(hospital.app_id, hospital.org_code, "VTE.CASE.UPLOAD", "B9")
    record = case_record(hospital)
    with pytest.raises(RuntimeError), processor.one_batch(context, [record]):
        assert not isinstance(processor.prepare(context, 0, record), list)
        raise RuntimeError("the gateway answers 5000 and stores nothing")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(MappingFact)) == 0
        assert session.scalar(select(func.count()).select_from(LinkagePseudonym)) == 0
    with processor.one_batch(context, [record]):
        assert not isinstance(processor.prepare(context, 0, record), list)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(MappingFact)) == 1
        assert session.scalar(select(func.count()).select_from(LinkagePseudonym)) == 1
