"""The test vectors of native-protocol.md §2.5, §2.7 and §2.9, reproduced by the facade's own code."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from facade.native.client import VteXClient
from facade.native.crypto import (
    EncType,
    decrypt_payload,
    derive_enc_key,
    encrypt_payload,
    envelope_aad,
)
from facade.native.reply import ReplyKey, biz_text, build_reply
from facade.native.signing import SignType, canonical_string, compute_sign, sign_matches

SECRET = "0123456789abcdef0123456789abcdef"
BIZ = '{"batchNo":"B20260101001","records":[{"recordId":"ZY0001","patientIdHash":"abc"}]}'
ENVELOPE = {
    "appId": "H320100001",
    "orgCode": "12320000466000000X",
    "serviceCode": "VTE.CASE.UPLOAD",
    "version": "1.0",
    "timestamp": "1767225600000",
    "nonce": "5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6",
    "signType": "MD5",
    "encType": "NONE",
    "bizContent": BIZ,
}
CANONICAL = (
    'appId=H320100001&bizContent={"batchNo":"B20260101001","records":[{"recordId":"ZY0001",'
    '"patientIdHash":"abc"}]}&encType=NONE&nonce=5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6'
    "&orgCode=12320000466000000X&serviceCode=VTE.CASE.UPLOAD&signType=MD5&timestamp=1767225600000"
    "&version=1.0"
)
AAD = b"H320100001|1767225600000|5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6"
IV = bytes.fromhex("000102030405060708090a0b")
SM4_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
AES_KEY = bytes(range(32))
SM4_ENC_DATA = (
    "t+GKyuH0mTVJbimTlIxdI/F2nM9ZAg3SffHZfWF+2vGUHr0R30UoG2j4/4djEO7fa7lywDfmSM5+oM0+caJ0DQVQdI1+Ise"
    "o55j7CD8rGa2pFKYBqOXCtmn40CWKZTddUbg="
)
AES_ENC_DATA = (
    "PCC0erGGqlXiY62p89tIX7XmtgTBS29NGkvH93gKb8BlY4zG9Low6hHHEJ/szkwa1Hs61Grmk+sduwhpeZeci55Ijx6bsFU"
    "JPm6ID43sLJVl959Pslmly4X0BIlwNdBeW3U="
)


def test_canonical_string_matches_the_spec() -> None:
    assert canonical_string(ENVELOPE) == CANONICAL


@pytest.mark.parametrize(
    ("sign_type", "expected"),
    [
        ("MD5", "BF4DE7E1112493BF303CD68B699CD082"),
        ("HMAC-SHA256", "47B27DCDC9FF8FC3E8AD5B891631058F7D11A11B5A24E5C3715BE89C24CC2F1F"),
        ("HMAC-SM3", "BE262F7E138571BF3C480E664DD545FAFD1632629E9305D99793F79F55A722D4"),
    ],
)
def test_sign_vectors(sign_type: str, expected: str) -> None:
    members = {**ENVELOPE, "signType": sign_type}  # the signType member is itself signed
    assert compute_sign(members, SECRET, sign_type) == expected
    assert sign_matches({**members, "sign": expected}, SECRET, sign_type, expected)
    assert not sign_matches(members, SECRET, sign_type, expected.lower())


def test_reference_client_produces_the_vector_envelope() -> None:
    client = VteXClient(
        "http://unused", app_id="H320100001", org_code="12320000466000000X", secret=SECRET
    )
    envelope = client.envelope(
        "VTE.CASE.UPLOAD", BIZ, timestamp="1767225600000", nonce="5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6"
    )
    assert envelope["sign"] == "BF4DE7E1112493BF303CD68B699CD082"


@pytest.mark.parametrize(
    ("enc_type", "key", "expected"),
    [(EncType.SM4_GCM, SM4_KEY, SM4_ENC_DATA), (EncType.AES_256_GCM, AES_KEY, AES_ENC_DATA)],
)
def test_encryption_vectors(enc_type: EncType, key: bytes, expected: str) -> None:
    assert envelope_aad("H320100001", "1767225600000", "5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6") == AAD
    iv_b64, enc_data = encrypt_payload(enc_type, key, BIZ.encode(), AAD, iv=IV)
    assert base64.b64decode(iv_b64) == IV
    assert enc_data == expected
    assert decrypt_payload(enc_type, key, iv_b64, enc_data, AAD).decode() == BIZ


def test_reply_sign_vector() -> None:
    payload = {
        "batchNo": "B20260101001",
        "status": "PARTIAL",
        "total": 2,
        "successCount": 1,
        "failCount": 1,
        "results": [
            {
                "index": 0,
                "recordId": "ZY0001",
                "status": "SUCCESS",
                "code": "0",
                "receiptId": "R8f3a",
            },
            {
                "index": 1,
                "recordId": "ZY0002",
                "status": "FAILED",
                "code": "3003",
                "msg": "值不在字典范围内",
                "errors": [
                    {"field": "records[1].riskLevel", "code": "3003", "msg": "取值须为 1/2/3/4"}
                ],
            },
        ],
    }
    reply = build_reply(
        "0",
        now_ms=1767225600350,
        msg="成功",
        app_id="H320100001",
        request_nonce="5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6",
        biz=biz_text(payload),
        key=ReplyKey("H320100001", SECRET, "MD5", EncType.NONE),
        nonce="a1b2c3d4e5f60718293a4b5c6d7e8f90",
    )
    assert "值不在字典范围内" in reply["bizContent"]  # UTF-8 Chinese left unescaped
    assert reply["sign"] == "8F940A533F0CF3AD95DB636D04085BA4"


def test_sm3_and_sm4_self_test_vectors() -> None:
    """GB/T 32905 and GB/T 32907 vectors: the bundled OpenSSL really implements the 国密 primitives."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert (
        digest.finalize().hex()
        == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305  (standard vector)
    assert (
        encryptor.update(key) + encryptor.finalize()
    ).hex() == "681edf34d206965e86b3e94f536e4246"


def test_derived_keys_have_the_right_length_and_differ_by_app() -> None:
    sm4 = derive_enc_key(EncType.SM4_GCM, SECRET, "H320100001")
    aes = derive_enc_key(EncType.AES_256_GCM, SECRET, "H320100001")
    assert (len(sm4), len(aes)) == (16, 32)
    assert sm4 != derive_enc_key(EncType.SM4_GCM, SECRET, "H320100002")
    assert sm4 == derive_enc_key(EncType.SM4_GCM, SECRET, "H320100001")


def test_every_sign_type_is_upper_hex_of_the_right_length() -> None:
    for kind, length in ((SignType.MD5, 32), (SignType.HMAC_SHA256, 64), (SignType.HMAC_SM3, 64)):
        sign = compute_sign(ENVELOPE, SECRET, kind)
        assert len(sign) == length and sign == sign.upper()
