"""VTE.DQ.QUERY: a signed (and, if asked, encrypted) reply with the calling app's institution's report only."""

from __future__ import annotations

import orjson
from quality_kit import GATEWAY, Replayed

from facade.native import credentials
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.settings import ensure_secrets


def _sent_ids(run: Replayed, org: str) -> set[str]:
    return {
        str(record["recordId"])
        for submission in run.defects.submissions
        if submission.org_code == org
        for record in submission.records
    }


def test_a_hospital_fetches_its_own_signed_report(shared: Replayed) -> None:
    first, second = (h.org_code for h in shared.defects.hospitals[:2])
    reply = shared.clients[first].query_quality("2026-02")
    assert reply.code == "0" and reply.signed
    report = reply.payload
    assert report is not None
    assert report["orgCode"] == first and report["kind"] == "institution"
    assert report == shared.service.report("2026-02", first)
    listed = {r["recordId"] for p in report["topProblems"] for r in p.get("records", [])}
    assert listed and listed <= _sent_ids(shared, first)
    assert not listed & _sent_ids(shared, second)
    text = orjson.dumps(report).decode()
    for other in shared.defects.hospitals:
        if other.org_code != first:
            assert other.org_code not in text


def test_another_institutions_report_is_refused(shared: Replayed) -> None:
    first, second = (h.org_code for h in shared.defects.hospitals[:2])
    mine = shared.clients[first]
    spoofed = VteXClient(
        GATEWAY,
        app_id=mine.app_id,
        org_code=second,
        secret=mine.secret,
        sign_type=mine.sign_type,
        http=mine.http,
        clock=shared.clock,
    )
    reply = spoofed.query_quality("2026-02")
    assert reply.code == "1003"
    assert reply.payload is None or "orgCode" not in reply.payload


def test_bad_requests_name_the_member(shared: Replayed) -> None:
    client = shared.clients[shared.defects.hospitals[0].org_code]
    for body, field in (
        ({"period": "2026-13"}, "bizContent.period"),
        ({}, "bizContent.period"),
        ({"period": "2026-02", "orgCode": "x"}, "bizContent"),
    ):
        reply = client.call("VTE.DQ.QUERY", body)
        assert reply.code == "2003", body
        assert reply.payload is not None
        assert [e["field"] for e in reply.payload["errors"]] == [field]


def test_encrypted_query_gets_an_encrypted_reply(shared: Replayed) -> None:
    org = shared.defects.hospitals[0].org_code
    settings = ensure_secrets(shared.service.settings)
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with shared.service.reports.database.session() as session:
        issued = credentials.issue_app(
            session, box, org, name="VTE", sign_types=("HMAC-SM3",), enc_types=("SM4-GCM",)
        )
    client = VteXClient(
        GATEWAY,
        app_id=issued.app_id,
        org_code=org,
        secret=issued.secret,
        sign_type="HMAC-SM3",
        enc_type="SM4-GCM",
        http=shared.http,
        clock=shared.clock,
    )
    reply = client.query_quality("2026-02")
    assert reply.code == "0" and reply.members["encType"] == "SM4-GCM"
    assert "bizContent" not in reply.members
    assert reply.payload is not None and reply.payload["orgCode"] == org
