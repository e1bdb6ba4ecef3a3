"""Receipts after intake: the forwarder's claim/settle functions and VTE.BATCH.QUERY."""

from __future__ import annotations

import threading

import pytest
from native_stub import StubProcessor
from sqlalchemy import select

from facade.db import Database
from facade.native.client import VteXClient
from facade.native.receipts import ReceiptQueue
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.native.tables import IntakeRecord
from facade.settings import Settings


def rec(record_id: str, version: str = "1", **extra: str) -> dict[str, str]:
    return {"recordId": record_id, "recordVersion": version, "riskLevel": "2", **extra}


@pytest.fixture
def queue(settings: Settings, database: Database) -> ReceiptQueue:
    return ReceiptQueue(database, SecretBox.for_purpose(settings, RECORD_PAYLOADS))


def test_claim_returns_decrypted_prepared_records_oldest_first(
    vx: VteXClient, queue: ReceiptQueue
) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1", idNumber="11010519491231002X"), rec("ZY2")])
    claimed = queue.claim(limit=10)
    assert [c.record_id for c in claimed] == ["ZY1", "ZY2"]
    first = claimed[0]
    assert (first.org_code, first.service_code, first.record_version, first.attempts) == (
        vx.org_code,
        "VTE.CASE.UPLOAD",
        1,
        1,
    )
    assert first.payload["riskLevel"] == "2"
    assert "idNumber" not in first.payload and len(first.payload["patientPseudonym"]) == 64
    assert queue.claim(limit=10) == []  # leased: nobody else gets them


def test_expired_lease_can_be_taken_over_and_the_old_holder_cannot_settle(
    vx: VteXClient, queue: ReceiptQueue
) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1")])
    (old,) = queue.claim(limit=1, lease_seconds=1, now_ms=1_000)
    (new,) = queue.claim(limit=1, now_ms=old.lease_until_ms + 1)
    assert new.receipt_id == old.receipt_id and new.attempts == 2
    assert not queue.mark_stored(old.receipt_id, old.lease_token)
    assert queue.mark_stored(new.receipt_id, new.lease_token, result_ref="Encounter/1")
    assert not queue.mark_failed(
        new.receipt_id, new.lease_token, reason="late"
    )  # settled once only


def test_release_puts_a_record_back_after_a_delay(vx: VteXClient, queue: ReceiptQueue) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1")])
    (held,) = queue.claim(now_ms=10_000)
    assert queue.release(held.receipt_id, held.lease_token, retry_in_seconds=30, now_ms=10_000)
    assert queue.claim(now_ms=20_000) == []
    assert [c.receipt_id for c in queue.claim(now_ms=40_001)] == [held.receipt_id]


def test_a_newer_version_waits_for_the_older_one(vx: VteXClient, queue: ReceiptQueue) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1", "1"), rec("ZY2")])
    vx.upload("VTE.CASE.UPLOAD", "B2", [rec("ZY1", "2", riskLevel="3")])
    first = queue.claim(limit=10)
    assert [(c.record_id, c.record_version) for c in first] == [("ZY1", 1), ("ZY2", 1)]
    assert queue.claim(limit=10) == []  # ZY1 v2 waits while v1 is in flight
    queue.mark_stored(first[0].receipt_id, first[0].lease_token)
    assert [(c.record_id, c.record_version) for c in queue.claim(limit=10)] == [("ZY1", 2)]


def test_concurrent_workers_never_claim_the_same_record(
    vx: VteXClient, queue: ReceiptQueue
) -> None:
    for n in range(4):
        vx.upload("VTE.CASE.UPLOAD", f"B{n}", [rec(f"ZY{n}-{i}") for i in range(25)])
    taken: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while batch := queue.claim(limit=7):
            with lock:
                taken.extend(c.receipt_id for c in batch)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 100 and len(set(taken)) == 100


def test_stored_wipes_the_payload_and_batch_query_shows_statuses(
    vx: VteXClient, queue: ReceiptQueue, database: Database
) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1"), rec("ZY2"), rec("ZY3", riskLevel="x")])
    view = vx.query_batch("B1")
    assert view.code == "0" and view.signed
    payload = view.payload or {}
    assert payload["storage"] == {"accepted": 2, "stored": 0, "failed": 0}
    assert [r.get("receiptStatus") for r in payload["results"]] == ["ACCEPTED", "ACCEPTED", None]  # type: ignore[union-attr]

    one, two = queue.claim(limit=10)
    queue.mark_stored(one.receipt_id, one.lease_token, result_ref="Encounter/9")
    queue.mark_failed(
        two.receipt_id, two.lease_token, reason="FHIR server rejected Encounter.period"
    )
    payload = vx.query_batch("B1").payload or {}
    assert payload["storage"] == {"accepted": 0, "stored": 1, "failed": 1}
    assert (payload["status"], payload["total"], payload["failCount"]) == ("PARTIAL", 3, 1)
    results = payload["results"]
    assert [r.get("receiptStatus") for r in results] == ["STORED", "FAILED", None]  # type: ignore[union-attr]
    assert results[1]["reason"] == "FHIR server rejected Encounter.period"  # type: ignore[index]
    with database.session() as session:
        sealed = {
            r: p
            for r, p in session.execute(
                select(IntakeRecord.receipt_id, IntakeRecord.payload_sealed)
            )
        }
    assert sealed == {one.receipt_id: None, two.receipt_id: None}
    assert queue.counts() == {"accepted": 0, "stored": 1, "failed": 1}


def test_a_failed_record_may_be_sent_again_with_the_same_version(
    vx: VteXClient, queue: ReceiptQueue
) -> None:
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1")])
    (held,) = queue.claim()
    queue.mark_failed(held.receipt_id, held.lease_token, reason="rejected")
    again = vx.upload("VTE.CASE.UPLOAD", "B2", [rec("ZY1")]).payload or {}
    entry = again["results"][0]  # type: ignore[index]
    assert entry["status"] == "SUCCESS" and entry["receiptId"] != held.receipt_id


def test_batch_query_of_an_unknown_or_foreign_batch_is_3006(
    vx: VteXClient, settings: Settings, database: Database
) -> None:
    from native_helpers import client_for, register

    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1")])
    assert vx.query_batch("B404").code == "3006"
    other = register(settings, database)
    stranger = client_for(other, vx.http)
    assert stranger.query_batch("B1").code == "3006"  # batches are visible to their own app only


def test_batch_query_payload_shape_is_checked(vx: VteXClient) -> None:
    assert vx.call("VTE.BATCH.QUERY", {"batchNo": "B1", "records": []}).code == "2003"
    assert vx.call("VTE.BATCH.QUERY", {}).code == "2003"


def test_hapi_down_delays_storage_but_loses_nothing(
    vx: VteXClient, queue: ReceiptQueue, processor: StubProcessor
) -> None:
    """What the forwarder does while HAPI is down: release, retry later, the record is still there."""
    vx.upload("VTE.CASE.UPLOAD", "B1", [rec("ZY1")])
    for attempt in range(3):
        (held,) = queue.claim(now_ms=1_000 * (attempt + 1) * 100)
        queue.release(
            held.receipt_id,
            held.lease_token,
            retry_in_seconds=1,
            now_ms=1_000 * (attempt + 1) * 100,
        )
    (held,) = queue.claim(now_ms=10_000_000)
    assert held.attempts == 4 and held.payload["riskLevel"] == "2"
    assert queue.mark_stored(held.receipt_id, held.lease_token)
