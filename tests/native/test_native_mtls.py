"""Code 1012: apps that pin client certificates, presented through our trusted TLS proxy's headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from native_helpers import GATEWAY, Registered, register

from facade.app import create_app
from facade.db import Database
from facade.errors import InvalidInput
from facade.excel.auth import signed_headers
from facade.native import credentials
from facade.native.client import VteXClient
from facade.native.mtls import CERT_HEADER, VERIFY_HEADER, fingerprint
from facade.settings import Settings

PROXY = ("127.0.0.1", 44321)  # the TLS proxy in front of the facade
STRANGER = ("203.0.113.9", 44321)  # anyone else reaching the facade directly


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    *,
    start: datetime,
    days: int = 30,
    ca: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key() if not ca else issuer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key


@pytest.fixture(scope="module")
def certificates() -> dict[str, x509.Certificate]:
    """A CA, a hospital system's certificate, a second one from the same CA, and an expired one."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca, _ = _certificate("VTE test CA", ca_key, "VTE test CA", start=now, ca=True)
    his, _ = _certificate("H320100001 HIS", ca_key, "VTE test CA", start=now - timedelta(days=1))
    other, _ = _certificate("another hospital", ca_key, "VTE test CA", start=now)
    expired, _ = _certificate(
        "H320100001 old", ca_key, "VTE test CA", start=now - timedelta(days=60), days=30
    )
    return {"ca": ca, "his": his, "other": other, "expired": expired}


def _proxied(cert: x509.Certificate, verify: str = "SUCCESS") -> dict[str, str]:
    """The headers nginx sets with $ssl_client_escaped_cert and $ssl_client_verify."""
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return {CERT_HEADER: quote(pem, safe=""), VERIFY_HEADER: verify}


@pytest.fixture
def pinned(
    settings: Settings, database: Database, certificates: dict[str, x509.Certificate]
) -> Registered:
    """An app that must present the HIS certificate (or the expired one, still pinned)."""
    pins = tuple(
        fingerprint(certificates[name].public_bytes(serialization.Encoding.DER))
        for name in ("his", "expired")
    )
    return register(settings, database, client_cert_sha256=pins)


@pytest.fixture
def proxied_app(settings: Settings, database: Database) -> Iterator[Settings]:
    """Settings trusting the loopback proxy."""
    yield settings.model_copy(update={"native_trusted_proxies": ["127.0.0.1/32"]})


def _ping(
    settings: Settings,
    database: Database,
    app: Registered,
    peer: tuple[str, int],
    headers: dict[str, str],
) -> str:
    facade = create_app(settings, database=database, record_processor=None)
    with TestClient(facade, client=peer, headers=headers) as http:
        client = VteXClient(
            GATEWAY, app_id=app.app_id, org_code=app.org_code, secret=app.secret, http=http
        )
        return client.ping().code


def test_pinned_certificate_through_the_trusted_proxy_is_accepted(
    proxied_app: Settings,
    database: Database,
    pinned: Registered,
    certificates: dict[str, x509.Certificate],
) -> None:
    assert _ping(proxied_app, database, pinned, PROXY, _proxied(certificates["his"])) == "0"


@pytest.mark.parametrize(
    ("case", "peer", "cert", "verify"),
    [
        ("no certificate", PROXY, None, "NONE"),
        ("another certificate of the same CA", PROXY, "other", "SUCCESS"),
        ("pinned but expired", PROXY, "expired", "SUCCESS"),
        ("proxy did not verify it", PROXY, "his", "FAILED:certificate has expired"),
        ("headers forged by a direct caller", STRANGER, "his", "SUCCESS"),
    ],
)
def test_everything_else_is_1012(
    proxied_app: Settings,
    database: Database,
    pinned: Registered,
    certificates: dict[str, x509.Certificate],
    case: str,
    peer: tuple[str, int],
    cert: str | None,
    verify: str,
) -> None:
    headers = _proxied(certificates[cert], verify) if cert else {VERIFY_HEADER: verify}
    assert _ping(proxied_app, database, pinned, peer, headers) == "1012", case


def test_apps_without_pins_need_no_certificate_and_pins_are_validated(
    proxied_app: Settings,
    database: Database,
    registered: Registered,
    certificates: dict[str, x509.Certificate],
) -> None:
    assert _ping(proxied_app, database, registered, STRANGER, {}) == "0"
    with database.session() as session:
        der = certificates["his"].public_bytes(serialization.Encoding.DER)
        colons = ":".join(f"{b:02X}" for b in bytes.fromhex(fingerprint(der)))
        credentials.update_app(session, registered.app_id, client_cert_sha256=[colons])
        access = credentials.load_access(session, registered.app_id)
        assert access is not None and access.client_cert_sha256 == {fingerprint(der)}
    assert _ping(proxied_app, database, registered, STRANGER, {}) == "1012"
    with pytest.raises(InvalidInput):
        with database.session() as session:
            credentials.update_app(session, registered.app_id, client_cert_sha256=["abc"])


def test_the_excel_door_checks_the_same_pins(
    proxied_app: Settings,
    database: Database,
    pinned: Registered,
    certificates: dict[str, x509.Certificate],
) -> None:
    def summary(headers: dict[str, str]) -> dict[str, object]:
        signed = signed_headers(
            app_id=pinned.app_id,
            org_code=pinned.org_code,
            secret=pinned.secret,
            subject={"importId": "none"},
        )
        facade = create_app(proxied_app, database=database, record_processor=None)
        with TestClient(facade, client=PROXY, headers={**signed, **headers}) as http:
            return http.get("/vte-x/v1/excel/imports/none").json()  # type: ignore[no-any-return]

    assert summary({})["code"] == "1012"
    # With the pinned certificate the request gets past the check (and finds no such import).
    assert summary(_proxied(certificates["his"]))["code"] != "1012"
