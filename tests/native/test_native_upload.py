"""Uploads end to end: per-record results, duplicates, versions, idempotent retries, encryption, keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, Registered, client_for, stored_counts
from native_stub import StubProcessor, id_check_char
from sqlalchemy import select

from facade.db import Base, Database
from facade.native import credentials
from facade.native.audit import NativeAuditEvent
from facade.native.client import VteXClient
from facade.native.crypto import EncType
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.tables import IntakeRecord
from facade.services import services_of
from facade.settings import Settings

ID_NUMBER = "11010519491231002X"
GOOD = {
    "recordId": "ZY0001",
    "recordVersion": "1",
    "riskLevel": "2",
    "idType": "01",
    "idNumber": ID_NUMBER,
    "admissionTime": "2026-01-01 08:00:00",
    "dischargeTime": "2026-01-09 10:00:00",
}


def record(record_id: str, **changes: object) -> dict[str, object]:
    return {**GOOD, "recordId": record_id, **changes}


def results(payload: dict[str, object] | None) -> list[dict[str, object]]:
    assert payload is not None
    return payload["results"]  # type: ignore[return-value]


def test_a_clean_batch_is_all_success_with_receipts(vx: VteXClient, database: Database) -> None:
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY0001"), record("ZY0002")])
    assert reply.code == "0" and reply.signed and reply.members["msg"] == "成功"
    payload = reply.payload or {}
    assert (payload["status"], payload["total"], payload["successCount"], payload["failCount"]) == (
        "ALL_SUCCESS",
        2,
        2,
        0,
    )
    entries = results(payload)
    assert [(e["index"], e["recordId"], e["status"], e["code"]) for e in entries] == [
        (0, "ZY0001", "SUCCESS", "0"),
        (1, "ZY0002", "SUCCESS", "0"),
    ]
    assert all(str(e["receiptId"]).startswith("R") for e in entries)
    assert reply.members["requestNonce"] and reply.members["appId"] == vx.app_id
    assert stored_counts(database) == (1, 2)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"riskLevel": None}, "riskLevel", "3001"),
        ({"admissionTime": "2026/01/01"}, "admissionTime", "3002"),
        ({"riskLevel": "5"}, "riskLevel", "3003"),
        ({"diagnosis": "肺" * 21}, "diagnosis", "3004"),
        ({"dischargeTime": "2025-12-31 00:00:00"}, "dischargeTime", "3005"),
        ({"idNumber": "110105194912310021"}, "idNumber", "3007"),
        ({"locked": "1"}, "recordId", "3008"),
    ],
)
def test_record_errors_name_field_and_code_and_store_only_good_records(
    vx: VteXClient, database: Database, changes: dict[str, object], field: str, code: str
) -> None:
    bad = {k: v for k, v in record("ZY0002", **changes).items() if v is not None}
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY0001"), bad])
    assert reply.code == "0"
    payload = reply.payload or {}
    assert (payload["status"], payload["successCount"], payload["failCount"]) == ("PARTIAL", 1, 1)
    failed = results(payload)[1]
    assert (failed["status"], failed["code"]) == ("FAILED", code)
    assert failed["errors"] == [
        {"field": f"records[1].{field}", "code": code, "msg": failed["errors"][0]["msg"]}
    ]  # type: ignore[index]
    assert ID_NUMBER not in str(reply.members) and "110105194912310021" not in str(reply.members)
    assert stored_counts(database) == (1, 1)


def test_3006_reference_to_an_unreported_case(vx: VteXClient, processor: StubProcessor) -> None:
    processor.known_cases.add("ZY0001")
    reply = vx.upload(
        "VTE.ASSESS.UPLOAD",
        "A1",
        [record("PG1", caseRecordId="ZY0001"), record("PG2", caseRecordId="ZY9")],
    )
    assert [(e["status"], e.get("code")) for e in results(reply.payload)] == [
        ("SUCCESS", "0"),
        ("FAILED", "3006"),
    ]


def test_gateway_checks_record_shape_and_keys(vx: VteXClient, processor: StubProcessor) -> None:
    records: list[object] = [
        "not an object",
        {"recordVersion": "1", "riskLevel": "2"},
        record("ZY3", recordVersion="v2"),
        record("Z" * 65),
        record("ZY5", riskLevel="9", recordId=" ZY5"),
    ]
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", records)
    payload = reply.payload or {}
    assert payload["status"] == "ALL_FAILED"
    got = [[(e["field"], e["code"]) for e in r["errors"]] for r in results(payload)]  # type: ignore[attr-defined]
    assert got == [
        [("records[0]", "3002")],
        [("records[1].recordId", "3001")],
        [("records[2].recordVersion", "3002")],
        [("records[3].recordId", "3004")],
        [
            ("records[4].recordId", "3002"),
            ("records[4].riskLevel", "3003"),
        ],  # every error of a record at once
    ]
    assert processor.calls == 4  # a non-object never reaches the processor


def test_3004_oversized_record_never_reaches_the_processor(
    make_client: Callable[..., TestClient], registered: Registered
) -> None:
    stub = StubProcessor(b"k" * 32)
    http = make_client(processor=stub, native_max_record_bytes=1024)
    client = client_for(registered, http)
    reply = client.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1", diagnosis="x" * 2000)])
    assert [(e["code"], e["field"]) for e in results(reply.payload)[0]["errors"]] == [
        ("3004", "records[0]")
    ]  # type: ignore[attr-defined]
    assert stub.calls == 0


def test_unknown_fields_come_back_as_warnings(vx: VteXClient) -> None:
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1", homeAddress="某路 1 号")])
    entry = results(reply.payload)[0]
    assert entry["status"] == "SUCCESS"
    assert entry["warnings"] == [
        {"field": "records[0].homeAddress", "code": "3002", "msg": "未知字段，已忽略"}
    ]


def test_retry_of_the_same_batch_returns_the_stored_reply(
    vx: VteXClient, database: Database
) -> None:
    first = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1"), record("ZY2", riskLevel="x")])
    again = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1"), record("ZY2", riskLevel="x")])
    assert again.code == "0"
    assert again.members["bizContent"] == first.members["bizContent"]
    assert again.members["nonce"] != first.members["nonce"]  # a fresh, freshly signed envelope
    assert stored_counts(database) == (1, 1)


def test_retry_with_different_bytes_is_a_conflict(vx: VteXClient) -> None:
    """Idempotency compares the exact payload text: even re-formatted JSON is a different batch."""
    assert (
        vx.call(
            "VTE.CASE.UPLOAD", '{"batchNo":"B1","records":[{"recordId":"ZY1","riskLevel":"2"}]}'
        ).code
        == "0"
    )
    assert (
        vx.call(
            "VTE.CASE.UPLOAD", '{"batchNo":"B1", "records":[{"recordId":"ZY1","riskLevel":"2"}]}'
        ).code
        == "2006"
    )


def test_same_record_version_again_is_duplicate_with_the_first_receipt(
    vx: VteXClient, database: Database
) -> None:
    first = results(vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1")]).payload)[0]
    second = vx.upload("VTE.CASE.UPLOAD", "B2", [record("ZY1"), record("ZY1")]).payload
    assert [(e["status"], e["receiptId"]) for e in results(second)] == [
        ("DUPLICATE", first["receiptId"]),
        ("DUPLICATE", first["receiptId"]),
    ]
    assert (second or {})["status"] == "ALL_SUCCESS"
    assert stored_counts(database) == (2, 1)


def test_a_correction_must_raise_record_version(vx: VteXClient, database: Database) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1", recordVersion="2")])
    changed_same_version = record("ZY1", recordVersion="2", riskLevel="4")
    stale = record("ZY1", recordVersion="1")
    newer = record("ZY1", recordVersion="3", riskLevel="4")
    payload = vx.upload("VTE.CASE.UPLOAD", "B2", [changed_same_version, stale, newer]).payload
    got = [
        (e["status"], e.get("errors", [{}])[0].get("field"), e["code"]) for e in results(payload)
    ]  # type: ignore[index, union-attr]
    assert got == [
        ("FAILED", "records[0].recordVersion", "3005"),
        ("FAILED", "records[1].recordVersion", "3005"),
        ("SUCCESS", None, "0"),
    ]
    with database.session() as session:
        versions = sorted(session.scalars(select(IntakeRecord.record_version)))
    assert versions == [2, 3]


@pytest.mark.parametrize("enc_type", ["SM4-GCM", "AES-256-GCM"])
@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256", "HMAC-SM3"])
def test_every_sign_and_enc_type_round_trips_with_an_encrypted_signed_reply(
    vx: VteXClient, enc_type: str, sign_type: str
) -> None:
    vx.enc_type, vx.sign_type = EncType(enc_type), vx.sign_type.__class__(sign_type)
    reply = vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1")])
    assert reply.code == "0" and reply.signed
    assert reply.members["encType"] == enc_type and reply.members["signType"] == sign_type
    assert "bizContent" not in reply.members and reply.members["encData"]
    assert (reply.payload or {})["status"] == "ALL_SUCCESS"


def test_error_replies_to_encrypted_requests_stay_readable(vx: VteXClient) -> None:
    vx.enc_type = EncType.SM4_GCM
    reply = vx.call("VTE.CASE.DELETE", {})
    assert reply.code == "2001" and reply.signed and reply.members["encType"] == "NONE"


def test_two_key_versions_work_during_rotation(
    vx: VteXClient, settings: Settings, database: Database
) -> None:
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        new = credentials.rotate_key(session, box, vx.app_id)
    assert new.key_version == 2 and new.secret != vx.secret
    # a hospital still on the old secret, sending no keyVersion: current key tried, then previous
    reply = vx.ping()
    assert reply.code == "0" and reply.signed  # the reply is signed with the key that matched
    assert (reply.payload or {})["keyVersion"] == "1"
    vx.enc_type = EncType.SM4_GCM  # the payload key is derived from the matching secret too
    assert vx.upload("VTE.CASE.UPLOAD", "ROT1", [record("ZYROT")]).code == "0"
    vx.enc_type = EncType.NONE
    # keyVersion selects the key: the old secret under version 2 is refused
    vx.key_version = 2
    assert vx.ping().code == "1005"
    vx.key_version = 1
    assert vx.ping().code == "0"
    rotated = VteXClient(
        GATEWAY, app_id=vx.app_id, org_code=vx.org_code, secret=new.secret, http=vx.http
    )
    assert (rotated.ping().payload or {})["keyVersion"] == "2"
    rotated.key_version = 1  # the new secret under the old version is refused
    assert rotated.ping().code == "1005"
    rotated.key_version = None
    with database.session() as session:
        assert credentials.complete_rotation(session, vx.app_id) == [1]
    assert vx.ping().code == "1005"
    vx.key_version = None
    assert vx.ping().code == "1005"  # after the overlap the old secret is refused either way
    assert rotated.ping().code == "0"


def test_ping_reports_server_time_and_key_version(vx: VteXClient) -> None:
    reply = vx.ping()
    assert reply.code == "0" and reply.signed
    payload = reply.payload or {}
    assert payload["orgCode"] == vx.org_code and payload["keyVersion"] == "1"
    assert len(str(payload["serverTime"])) == 13


def test_nothing_sensitive_is_stored_in_clear(
    vx: VteXClient, settings: Settings, database: Database
) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1")])
    secrets = (ID_NUMBER.encode(), vx.secret.encode(), b"2026-01-01 08:00:00")
    with database.session() as session:  # every row of every table, whatever the backend
        dump = "".join(
            repr(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
        )
    assert "ZY1" in dump  # the dump really holds the upload
    assert not any(secret.decode() in dump for secret in secrets)
    if settings.database_url.startswith("sqlite:///"):  # also free pages and the write-ahead log
        database.dispose()
        main = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(f.read_bytes() for f in (main, Path(f"{main}-wal")) if f.exists())
        assert raw and not any(secret in raw for secret in secrets)


def test_id_check_helper_agrees_with_the_standard_example() -> None:
    assert id_check_char(ID_NUMBER[:17]) == ID_NUMBER[17]


def test_the_audit_hook_gets_one_event_per_request(
    app_client: TestClient, vx: VteXClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[NativeAuditEvent] = []
    gateway = services_of(app_client.app).gateway  # type: ignore[arg-type]
    monkeypatch.setattr(gateway, "audit", events.append)
    vx.upload("VTE.CASE.UPLOAD", "B1", [record("ZY1"), record("ZY2", riskLevel="x")])
    vx.post(b"not json")
    uploaded, refused = events
    assert (uploaded.code, uploaded.app_id, uploaded.org_code, uploaded.service_code) == (
        "0",
        vx.app_id,
        vx.org_code,
        "VTE.CASE.UPLOAD",
    )
    assert (uploaded.batch_no, uploaded.total, uploaded.success_count, uploaded.fail_count) == (
        "B1",
        2,
        1,
        1,
    )
    assert uploaded.signature_verified and uploaded.sign_type == "MD5" and len(uploaded.nonce) == 32
    assert (refused.code, refused.app_id, refused.signature_verified) == ("2003", "", False)
    assert ID_NUMBER not in repr(events)
