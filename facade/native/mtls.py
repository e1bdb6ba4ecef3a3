"""Mutual TLS for apps that require it (code 1012): the certificate a trusted TLS proxy verified, pinned per app.

TLS ends at a reverse proxy in front of the facade (uvicorn does not hand the peer certificate
to the application, and 国密 TLCP needs a Tongsuo/GmSSL-based proxy anyway). The proxy asks for
and verifies the client certificate, then passes it on in two headers, overwriting whatever the
client sent under those names:

* ``X-VTE-Client-Cert``: the PEM certificate, URL-escaped (nginx ``$ssl_client_escaped_cert``);
* ``X-VTE-Client-Verify``: ``SUCCESS`` when the handshake verified it (nginx ``$ssl_client_verify``).

The facade believes them only from a peer in ``VTE_NATIVE_TRUSTED_PROXIES``. An app that lists
certificate fingerprints (``app set --client-cert-sha256``) must present one of them, inside its
validity period; SHA-256 over the DER certificate, so SM2 certificates pin as well as RSA/ECDSA.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess

CERT_HEADER = "x-vte-client-cert"
VERIFY_HEADER = "x-vte-client-verify"


def presented_certificate(headers: Mapping[str, str], *, from_trusted_proxy: bool) -> bytes | None:
    """The DER client certificate the proxy verified, or None (no proxy, no cert, not verified)."""
    if not from_trusted_proxy or headers.get(VERIFY_HEADER, "") != "SUCCESS":
        return None
    pem = unquote(headers.get(CERT_HEADER, "")).strip()
    if not pem:
        return None
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    return certificate.public_bytes(Encoding.DER)


def fingerprint(der: bytes) -> str:
    """SHA-256 of the DER certificate as lower-case hex (openssl's ``-fingerprint -sha256``, no colons)."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def check_client_certificate(
    access: AppAccess, der: bytes | None, *, now: datetime | None = None
) -> None:
    """Refuse with 1012 unless the app needs no certificate or presented a pinned, current one."""
    if not access.client_cert_sha256:
        return
    if der is None:
        raise reject(Code.CLIENT_CERT_FAILED, "该应用须通过双向 TLS 出示客户端证书")
    if fingerprint(der) not in access.client_cert_sha256:
        raise reject(Code.CLIENT_CERT_FAILED, "客户端证书未登记给该应用")
    certificate = x509.load_der_x509_certificate(der)
    moment = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise reject(Code.CLIENT_CERT_FAILED, "客户端证书不在有效期内")
