"""Every whole-request code the facade produces, through the real app; a refused request stores nothing."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, Registered, client_for, register, stored_counts
from sqlalchemy import delete

from facade.db import Database
from facade.native import credentials
from facade.native.client import Reply, VteXClient
from facade.native.crypto import EncType, derive_enc_key, encrypt_payload, envelope_aad
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.signing import compute_sign
from facade.native.tables import IntakeBatch, IntakeRecord
from facade.services import services_of
from facade.settings import Settings

RECORD = {"recordId": "ZY0001", "recordVersion": "1", "riskLevel": "2"}


def batch(batch_no: str = "B1", records: list[object] | None = None) -> dict[str, object]:
    return {"batchNo": batch_no, "records": records if records is not None else [RECORD]}


def resign(envelope: dict[str, str], secret: str) -> dict[str, str]:
    """Sign again after a test altered a member, so the request reaches the step under test."""
    return {**envelope, "sign": compute_sign(envelope, secret, envelope["signType"])}


@pytest.fixture(autouse=True)
def nothing_stored(database: Database) -> Iterator[None]:
    """Every test in this module is about refused requests: none may leave a batch or receipt."""
    yield
    assert stored_counts(database) == (0, 0)


def expect(reply: Reply, code: str, *, signed: bool) -> dict[str, object]:
    """The reply has ``code``, is signed only after a verified signature, and names what went wrong."""
    assert reply.code == code, reply.members
    assert reply.signed is signed
    assert reply.members["msg"]
    return reply.payload or {}


def fields(payload: dict[str, object]) -> list[object]:
    return [e["field"] for e in payload.get("errors", [])]  # type: ignore[attr-defined, index]


# -- step 1 and 2 ----------------------------------------------------------------------------


def test_2005_body_too_large_by_content_length(
    make_client: Callable[..., TestClient], vx: VteXClient
) -> None:
    client = make_client(native_max_body_bytes=2048)
    envelope = vx.envelope("VTE.CASE.UPLOAD", batch(records=[{**RECORD, "diagnosis": "x" * 4000}]))
    reply = client_for(vx, client).post(envelope)
    expect(reply, "2005", signed=False)


def test_2005_streamed_body_without_length(
    make_client: Callable[..., TestClient], vx: VteXClient
) -> None:
    client = make_client(native_max_body_bytes=2048)
    raw = orjson.dumps(
        vx.envelope("VTE.CASE.UPLOAD", batch(records=[{**RECORD, "diagnosis": "x" * 4000}]))
    )
    response = client.post(GATEWAY, content=iter([raw[:1000], raw[1000:]]))
    assert response.status_code == 200
    assert vx.verify(response.content).code == "2005"


@pytest.mark.parametrize("raw", [b"\x80\x81", b"{not json", b'{"appId":"H1"', b""])
def test_2003_body_is_not_utf8_json(vx: VteXClient, raw: bytes) -> None:
    expect(vx.post(raw), "2003", signed=False)


def test_1001_unknown_member(vx: VteXClient) -> None:
    envelope = resign({**vx.envelope("VTE.PING", {}), "callback": "http://x"}, vx.secret)
    payload = expect(vx.post(envelope), "1001", signed=False)
    assert fields(payload) == ["callback"]


def test_1001_duplicate_member(vx: VteXClient) -> None:
    raw = orjson.dumps(vx.envelope("VTE.PING", {}))
    raw = raw[:-1] + b',"sign":"' + b"A" * 32 + b'"}'
    expect(vx.post(raw), "1001", signed=False)


def test_1001_missing_and_non_string_members(vx: VteXClient) -> None:
    envelope: dict[str, object] = {**vx.envelope("VTE.PING", {}), "timestamp": 1767225600000}
    del envelope["nonce"]
    payload = expect(vx.post(orjson.dumps(envelope)), "1001", signed=False)
    assert sorted(fields(payload)) == ["nonce", "timestamp"]  # type: ignore[type-var]


# -- step 3: app, org, IP --------------------------------------------------------------------


def test_1002_unknown_app(vx: VteXClient) -> None:
    stranger = VteXClient(
        GATEWAY, app_id="H999999999", org_code=vx.org_code, secret=vx.secret, http=vx.http
    )
    expect(stranger.ping(), "1002", signed=False)


def test_1002_revoked_app(vx: VteXClient, database: Database) -> None:
    with database.session() as session:
        credentials.revoke_app(session, vx.app_id)
    expect(vx.ping(), "1002", signed=False)


def test_1003_org_not_bound_to_app(vx: VteXClient, settings: Settings, database: Database) -> None:
    other = register(settings, database)
    impostor = VteXClient(
        GATEWAY, app_id=vx.app_id, org_code=other.org_code, secret=vx.secret, http=vx.http
    )
    payload = expect(impostor.ping(), "1003", signed=False)
    assert fields(payload) == ["orgCode"]


def test_1003_org_disabled_and_enabled_again(vx: VteXClient, app_client: TestClient) -> None:
    institutions = services_of(app_client.app).institutions  # type: ignore[arg-type]
    assert vx.ping().code == "0"  # the institution's status is now cached as active
    institutions.set_status(vx.org_code, active=False)
    payload = expect(vx.ping(), "1003", signed=False)
    assert fields(payload) == ["orgCode"]
    institutions.set_status(vx.org_code, active=True)
    assert vx.ping().code == "0"


def test_1003_service_not_granted(
    app_client: TestClient, settings: Settings, database: Database
) -> None:
    limited = register(settings, database, services=("VTE.PING",))
    client = client_for(limited, app_client)
    assert client.ping().code == "0"  # allowed service still works
    payload = expect(client.upload("VTE.CASE.UPLOAD", "B1", [RECORD]), "1003", signed=True)
    assert fields(payload) == ["serviceCode"]


def test_1008_source_address_not_allowed(
    make_client: Callable[..., TestClient], settings: Settings, database: Database
) -> None:
    fenced = register(settings, database, ip_allowlist=("10.1.0.0/16",))
    for address, code in (("10.2.0.5", "1008"), ("10.1.3.4", "0")):
        http = make_client(client=(address, 40000))
        client = client_for(fenced, http)
        assert client.ping().code == code


def test_1008_forwarded_for_counts_only_behind_a_trusted_proxy(
    make_client: Callable[..., TestClient], settings: Settings, database: Database
) -> None:
    fenced = register(settings, database, ip_allowlist=("10.1.0.0/16",))
    spoofed = {"X-Forwarded-For": "10.1.3.4"}
    for trusted, code in (([], "1008"), (["192.168.0.0/24"], "0")):
        http = make_client(client=("192.168.0.10", 40000), native_trusted_proxies=trusted)
        client = client_for(fenced, http)
        envelope = client.envelope("VTE.PING", {})
        response = http.post(GATEWAY, content=orjson.dumps(envelope), headers=spoofed)
        assert client.verify(response.content).code == code


# -- step 4: signType / encType --------------------------------------------------------------


def test_1004_sign_type_not_allowed_for_the_app(
    app_client: TestClient, settings: Settings, database: Database
) -> None:
    strict = register(settings, database, sign_types=("HMAC-SM3",))
    md5 = client_for(strict, app_client)
    payload = expect(md5.ping(), "1004", signed=False)
    assert fields(payload) == ["signType"]
    md5.sign_type = md5.sign_type.__class__("HMAC-SM3")
    assert md5.ping().code == "0"


def test_1004_unknown_sign_type(vx: VteXClient) -> None:
    envelope = {**vx.envelope("VTE.PING", {}), "signType": "SHA1"}
    expect(vx.post(envelope), "1004", signed=False)


def test_1011_enc_type_not_allowed_or_encryption_required(
    app_client: TestClient, settings: Settings, database: Database
) -> None:
    sm4_only = register(settings, database, enc_types=("SM4-GCM",))
    plain = client_for(sm4_only, app_client)
    expect(plain.ping(), "1011", signed=False)  # this app must encrypt
    aes = client_for(sm4_only, app_client, enc_type="AES-256-GCM")
    expect(aes.ping(), "1011", signed=False)


def test_1011_unknown_enc_type(vx: VteXClient) -> None:
    envelope = {**vx.envelope("VTE.PING", {}), "encType": "RC4"}
    expect(vx.post(envelope), "1011", signed=False)


# -- step 5: timestamp -----------------------------------------------------------------------


@pytest.mark.parametrize("offset_s", [-301, 301, -3600])
def test_1006_timestamp_outside_the_window_reports_server_time(
    vx: VteXClient, offset_s: int
) -> None:
    stamp = str(int((time.time() + offset_s) * 1000))
    before = int(time.time() * 1000)
    payload = expect(vx.post(vx.envelope("VTE.PING", {}, timestamp=stamp)), "1006", signed=False)
    assert abs(int(payload["serverTime"]) - before) < 60_000  # type: ignore[arg-type]


@pytest.mark.parametrize("stamp", ["1767225600", "20260101120000", "17672256000001"])
def test_1006_timestamp_not_13_digit_milliseconds(vx: VteXClient, stamp: str) -> None:
    payload = expect(vx.post(vx.envelope("VTE.PING", {}, timestamp=stamp)), "1006", signed=False)
    assert fields(payload) == ["timestamp"]


# -- step 6: signature -----------------------------------------------------------------------


def test_1005_wrong_secret(vx: VteXClient) -> None:
    forged = VteXClient(
        GATEWAY, app_id=vx.app_id, org_code=vx.org_code, secret="0" * 64, http=vx.http
    )
    expect(forged.post(forged.envelope("VTE.PING", {})), "1005", signed=False)


def test_1005_payload_changed_after_signing(vx: VteXClient) -> None:
    envelope = vx.envelope("VTE.CASE.UPLOAD", batch())
    envelope["bizContent"] = envelope["bizContent"].replace('"2"', '"4"')
    expect(vx.post(envelope), "1005", signed=False)


def test_1005_lower_case_sign(vx: VteXClient) -> None:
    envelope = vx.envelope("VTE.PING", {})
    envelope["sign"] = envelope["sign"].lower()
    expect(vx.post(envelope), "1005", signed=False)


def test_1005_key_version_unknown_or_retired(
    vx: VteXClient, settings: Settings, database: Database
) -> None:
    vx.key_version = 2
    expect(vx.ping(), "1005", signed=False)
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        credentials.rotate_key(session, box, vx.app_id)
        credentials.complete_rotation(session, vx.app_id)
    vx.key_version = 1
    payload = expect(vx.ping(), "1005", signed=False)
    assert fields(payload) == ["keyVersion"]


# -- steps 6b and 7: rate and nonce ----------------------------------------------------------


def test_1009_rate_limit_per_app(
    make_client: Callable[..., TestClient], registered: Registered
) -> None:
    http = make_client(native_rate_per_second=0.001, native_rate_burst=2)
    client = client_for(registered, http)
    assert [client.ping().code for _ in range(2)] == ["0", "0"]
    envelope = client.envelope("VTE.PING", {})
    expect(client.post(envelope), "1009", signed=True)
    # the refused request did not use up its nonce: after the back-off the same envelope is new
    fresh = make_client(native_rate_per_second=0)
    assert client_for(client, fresh).post(envelope).code == "0"


def test_1007_replayed_nonce(vx: VteXClient) -> None:
    envelope = vx.envelope("VTE.PING", {})
    assert vx.post(envelope).code == "0"
    payload = expect(vx.post(envelope), "1007", signed=True)
    assert fields(payload) == ["nonce"]


# -- step 8: decryption ----------------------------------------------------------------------


@pytest.mark.parametrize("enc_type", ["SM4-GCM", "AES-256-GCM"])
def test_1010_tampered_ciphertext_or_bad_iv(vx: VteXClient, enc_type: str) -> None:
    vx.enc_type = EncType(enc_type)
    envelope = vx.envelope("VTE.CASE.UPLOAD", batch())
    data = bytearray(base64.b64decode(envelope["encData"]))
    data[0] ^= 1
    tampered = resign({**envelope, "encData": base64.b64encode(bytes(data)).decode()}, vx.secret)
    expect(vx.post(tampered), "1010", signed=True)
    short_iv = resign(
        {**vx.envelope("VTE.PING", {}), "iv": base64.b64encode(b"123").decode()}, vx.secret
    )
    expect(vx.post(short_iv), "1010", signed=True)
    not_base64 = resign({**vx.envelope("VTE.PING", {}), "encData": "%%%"}, vx.secret)
    expect(vx.post(not_base64), "1010", signed=True)


def test_1010_ciphertext_moved_to_another_envelope(vx: VteXClient) -> None:
    """The AAD binds encData to appId|timestamp|nonce: transplanting it fails even when re-signed."""
    vx.enc_type = EncType.SM4_GCM
    first = vx.envelope("VTE.CASE.UPLOAD", batch())
    second = vx.envelope("VTE.CASE.UPLOAD", batch("B2"))
    moved = resign({**second, "encData": first["encData"], "iv": first["iv"]}, vx.secret)
    expect(vx.post(moved), "1010", signed=True)


# -- step 9: service, version, payload, limits -----------------------------------------------


def test_2001_unknown_service(vx: VteXClient) -> None:
    payload = expect(vx.call("VTE.CASE.DELETE", {}), "2001", signed=True)
    assert fields(payload) == ["serviceCode"]


def test_2001_path_alias_disagrees_with_service_code(vx: VteXClient) -> None:
    envelope = vx.envelope("VTE.PING", {})
    expect(vx.post(envelope, path="/vte-x/v1/VTE.CASE.UPLOAD"), "2001", signed=True)
    assert vx.post(vx.envelope("VTE.PING", {}), path="/vte-x/v1/VTE.PING").code == "0"


def test_2002_unsupported_version(vx: VteXClient) -> None:
    envelope = resign({**vx.envelope("VTE.PING", {}), "version": "2.0"}, vx.secret)
    expect(vx.post(envelope), "2002", signed=True)


@pytest.mark.parametrize(
    ("biz", "field"),
    [
        ("{not json", "bizContent"),
        ('{"batchNo":"B1","batchNo":"B2","records":[]}', "bizContent"),
        ("[1]", "bizContent"),
        ('{"batchNo":"B1"}', "bizContent.records"),
        ('{"batchNo":"B 1","records":[{}]}', "bizContent.batchNo"),
        ('{"batchNo":"B1","records":{}}', "bizContent.records"),
        ('{"batchNo":"B1","records":[{}],"note":"x"}', "bizContent.note"),
    ],
)
def test_2003_bad_biz_content(vx: VteXClient, biz: str, field: str) -> None:
    payload = expect(vx.call("VTE.CASE.UPLOAD", biz), "2003", signed=True)
    assert fields(payload) == [field]


def test_2003_decrypted_payload_not_utf8(vx: VteXClient) -> None:
    vx.enc_type = EncType.SM4_GCM
    envelope = vx.envelope("VTE.PING", {})
    key = derive_enc_key(EncType.SM4_GCM, vx.secret, vx.app_id)
    aad = envelope_aad(vx.app_id, envelope["timestamp"], envelope["nonce"])
    envelope["iv"], envelope["encData"] = encrypt_payload(EncType.SM4_GCM, key, b"\xff\xfe{}", aad)
    expect(vx.post(resign(envelope, vx.secret)), "2003", signed=True)


@pytest.mark.parametrize("count", [0, 201])
def test_2004_record_count_outside_1_to_200(vx: VteXClient, count: int) -> None:
    records = [{**RECORD, "recordId": f"ZY{i}"} for i in range(count)]
    payload = expect(vx.upload("VTE.CASE.UPLOAD", "B1", records), "2004", signed=True)
    assert fields(payload) == ["bizContent.records"]


def test_2004_limit_comes_from_settings(
    make_client: Callable[..., TestClient], registered: Registered
) -> None:
    http = make_client(native_max_records_per_batch=2)
    client = client_for(registered, http)
    expect(client.upload("VTE.CASE.UPLOAD", "B1", [RECORD] * 3), "2004", signed=True)


# -- steps 10 and 11 -------------------------------------------------------------------------


def test_2006_same_batch_number_different_content(vx: VteXClient, database: Database) -> None:
    first = vx.upload("VTE.CASE.UPLOAD", "B1", [RECORD])
    assert first.code == "0"
    before = stored_counts(database)
    payload = expect(
        vx.upload("VTE.CASE.UPLOAD", "B1", [{**RECORD, "riskLevel": "3"}]), "2006", signed=True
    )
    assert fields(payload) == ["bizContent.batchNo"]
    assert stored_counts(database) == before
    _forget(
        database
    )  # the first batch was meant to be stored; the module's check is about the second


def test_5001_no_record_processor_configured(
    make_client: Callable[..., TestClient], registered: Registered
) -> None:
    http = make_client(processor=None)
    client = client_for(registered, http)
    expect(client.upload("VTE.CASE.UPLOAD", "B1", [RECORD]), "5001", signed=True)
    assert client.ping().code == "0"  # the protocol services still answer


def test_5000_processor_failure_stores_nothing_and_logs_no_personal_data(
    vx: VteXClient, caplog: pytest.LogCaptureFixture
) -> None:
    records = [
        RECORD,
        {**RECORD, "recordId": "ZY0002", "explode": "1", "idNumber": "11010519491231002X"},
    ]
    with caplog.at_level(logging.ERROR, logger="facade.native"):
        expect(vx.upload("VTE.CASE.UPLOAD", "B1", records), "5000", signed=True)
    assert caplog.records, "the failure must be logged"
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert "11010519491231002X" not in logged
    assert "RuntimeError" in logged


def test_replies_are_http_200_json(vx: VteXClient) -> None:
    response = vx.http.post(GATEWAY, content=b"junk")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def _forget(database: Database) -> None:
    with database.session() as session:
        session.execute(delete(IntakeRecord))
        session.execute(delete(IntakeBatch))
