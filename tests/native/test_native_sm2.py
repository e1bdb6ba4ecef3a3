"""signType=SM2: the published GB/T 32918 vector, a second implementation, and the gateway end to end."""

from __future__ import annotations

import gmalg
import pytest
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, register

from facade.app import create_app
from facade.db import Database
from facade.errors import InvalidInput
from facade.native import credentials, sm2
from facade.native.client import ReplyNotTrusted, VteXClient
from facade.native.signing import canonical_string
from facade.settings import Settings

# GM/T 0003.5-2012 (= GB/T 32918.5-2017) Annex A: signature on the recommended curve, default
# user id 1234567812345678, message "message digest", with the fixed random k below.
VECTOR_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
VECTOR_PUBLIC = (
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
VECTOR_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
VECTOR_SIGN = (
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)
MESSAGE = b"message digest"


def test_published_vector_verifies_and_tampering_does_not() -> None:
    public = sm2.parse_public_key("04" + VECTOR_PUBLIC)
    assert sm2.verify(public, MESSAGE, VECTOR_SIGN)
    assert not sm2.verify(public, b"message digesT", VECTOR_SIGN)
    assert not sm2.verify(public, MESSAGE, VECTOR_SIGN[:-1] + "B")
    assert not sm2.verify(public, MESSAGE, VECTOR_SIGN.lower())  # the wire form is upper-case
    n = f"{sm2.CURVE_ORDER:064X}"
    assert not sm2.verify(public, MESSAGE, "0" * 64 + VECTOR_SIGN[64:])  # r = 0
    assert not sm2.verify(public, MESSAGE, VECTOR_SIGN[:64] + n)  # s = n


def test_an_independent_implementation_reproduces_the_vector_and_accepts_our_signs() -> None:
    # gmalg (pure Python) with the vector's k gives the published r‖s: the vector is read right.
    other = gmalg.SM2(
        bytes.fromhex(VECTOR_D),
        sm2.DEFAULT_SIGNER_ID,
        bytes.fromhex("04" + VECTOR_PUBLIC),
        rnd_fn=lambda _bits: VECTOR_K,
    )
    r, s = other.sign(MESSAGE)
    assert (r + s).hex().upper() == VECTOR_SIGN
    # Our (GmSSL) signs, with fresh k each time, verify under the other implementation.
    private, public = sm2.parse_private_key(VECTOR_D), sm2.parse_public_key(VECTOR_PUBLIC)
    first, second = (sm2.sign(private, public, MESSAGE) for _ in range(2))
    assert first != second
    checker = gmalg.SM2(None, sm2.DEFAULT_SIGNER_ID, bytes.fromhex("04" + VECTOR_PUBLIC))
    for sign in (first, second):
        raw = bytes.fromhex(sign)
        assert checker.verify(MESSAGE, raw[:32], raw[32:])
    assert sm2.raw_from_der(sm2.der_from_raw(bytes.fromhex(first))).hex().upper() == first


def test_keys_that_are_not_on_the_curve_are_refused() -> None:
    off_curve = VECTOR_PUBLIC[:-1] + ("4" if VECTOR_PUBLIC[-1] != "4" else "5")
    with pytest.raises(sm2.Sm2KeyError):
        sm2.parse_public_key(off_curve)
    with pytest.raises(sm2.Sm2KeyError):
        sm2.parse_private_key("00" * 32)
    private, public = sm2.generate_keypair()
    assert sm2.check_pair(private, public)
    assert not sm2.check_pair(private, sm2.parse_public_key(VECTOR_PUBLIC))


def test_sm2_is_allowed_only_with_a_registered_public_key(
    settings: Settings, database: Database
) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(settings, database, sign_types=("SM2",))
    assert refused.value.issues[0].location == "sm2PublicKey"
    with pytest.raises(InvalidInput):
        register(settings, database, sign_types=("SM2",), sm2_public_key=VECTOR_PUBLIC[:-2])


def _like(client: VteXClient, http: TestClient, **keys: object) -> VteXClient:
    """The same app's SM2 client with other keys (its own pair, the platform key it trusts)."""
    return VteXClient(
        GATEWAY,
        app_id=client.app_id,
        org_code=client.org_code,
        secret=client.secret,
        sign_type="SM2",
        http=http,
        **keys,  # type: ignore[arg-type]
    )


def _sm2_app(settings: Settings, database: Database) -> tuple[VteXClient, TestClient, bytes]:
    private, public = sm2.generate_keypair()
    app = register(
        settings, database, sign_types=("SM2",), sm2_public_key=sm2.public_key_hex(public)
    )
    http = TestClient(create_app(settings, database=database, record_processor=None))
    platform = sm2.parse_public_key(settings.platform_sm2_public_key)
    client = VteXClient(
        GATEWAY, app_id=app.app_id, org_code=app.org_code, secret=app.secret, http=http
    )
    return (
        _like(client, http, sm2_keys=(private, public), platform_sm2_public_key=platform),
        http,
        platform,
    )


def test_gateway_verifies_sm2_requests_and_signs_replies_with_the_platform_key(
    settings: Settings, database: Database
) -> None:
    client, http, platform = _sm2_app(settings, database)
    with http:
        reply = client.ping()  # the client verifies the reply's SM2 sign with the platform key
        assert reply.code == "0" and reply.members["signType"] == "SM2"
        assert sm2.verify(
            platform, canonical_string(reply.members).encode("utf-8"), reply.members["sign"]
        )
        # A sign made with another private key is a bad signature, and the reply is unsigned.
        intruder = _like(client, http, sm2_keys=sm2.generate_keypair())
        refused = intruder.ping()
        assert (refused.code, refused.signed) == ("1005", False)
        # A client checking replies against the wrong platform key does not trust them.
        doubting = _like(
            client,
            http,
            sm2_keys=client.sm2_keys,
            platform_sm2_public_key=sm2.generate_keypair()[1],
        )
        with pytest.raises(ReplyNotTrusted):
            doubting.ping()


def test_without_a_platform_key_sm2_requests_are_refused_with_1004(
    settings: Settings, database: Database
) -> None:
    client, _, _ = _sm2_app(settings, database)
    bare = settings.model_copy(update={"platform_sm2_key": None, "platform_sm2_public_key": ""})
    with TestClient(create_app(bare, database=database, record_processor=None)) as http:
        client.http = http
        reply = client.ping()
    assert reply.code == "1004" and "SM2" in reply.members["msg"]
    with database.session() as session:
        access = credentials.load_access(session, client.app_id)
    assert access is not None and access.sign_types == frozenset({"SM2"})
