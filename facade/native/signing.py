"""The VTE-X string to sign and the sign types: MD5, HMAC-SHA256, HMAC-SM3 (§2.5) and SM2 (§2.11)."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from collections.abc import Mapping
from enum import StrEnum

from cryptography.hazmat.primitives import hashes, hmac

from facade.native import sm2


class SignType(StrEnum):
    """How ``sign`` is computed from the canonical string."""

    MD5 = "MD5"
    HMAC_SHA256 = "HMAC-SHA256"
    HMAC_SM3 = "HMAC-SM3"
    SM2 = "SM2"


def canonical_string(members: Mapping[str, str]) -> str:
    """``name=value`` pairs joined by ``&``: every member but ``sign``, empty values dropped.

    Names sort by their UTF-8 bytes (plain ASCII order, case-sensitive); values are used raw, so
    the payload is signed exactly as transmitted and no JSON canonicalisation is needed.
    """
    pairs = sorted(
        ((name, value) for name, value in members.items() if name != "sign" and value != ""),
        key=lambda pair: pair[0].encode("utf-8"),
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def string_to_sign(members: Mapping[str, str], secret: str) -> str:
    """The canonical string with ``&key=<appSecret>`` appended (WeChat-v2 ``stringSignTemp``)."""
    return f"{canonical_string(members)}&key={secret}"


def compute_sign(
    members: Mapping[str, str],
    secret: str,
    sign_type: SignType | str,
    *,
    sm2_keys: tuple[bytes, bytes] | None = None,
) -> str:
    """The upper-case hex ``sign`` of ``members`` under ``secret``.

    The HMAC modes keep the ``&key=`` suffix inside the message on purpose: that is WeChat's
    HMAC-SHA256 rule, so vendor code written for it works unchanged. SM2 signs the canonical
    string alone (no secret in it) with the signer's ``(private, public)`` key pair.
    """
    kind = SignType(sign_type)
    if kind is SignType.SM2:
        if sm2_keys is None:
            raise ValueError("an SM2 sign needs the signer's key pair")
        return sm2.sign(*sm2_keys, canonical_string(members).encode("utf-8"))
    message = string_to_sign(members, secret).encode("utf-8")
    if kind is SignType.MD5:
        # Compatibility mode only (the draft standard lists MD5); not used as a security primitive alone.
        return hashlib.md5(message, usedforsecurity=False).hexdigest().upper()
    # cryptography bundles its own OpenSSL, so SM3 works even where the system OpenSSL lacks it.
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA256() if kind is SignType.HMAC_SHA256 else hashes.SM3()
    )
    mac = hmac.HMAC(secret.encode("utf-8"), algorithm)
    mac.update(message)
    return mac.finalize().hex().upper()


def sign_matches(
    members: Mapping[str, str],
    secret: str,
    sign_type: SignType | str,
    given: str,
    *,
    sm2_public_key: bytes | None = None,
) -> bool:
    """Whether ``given`` is the sign of ``members``, compared in constant time.

    For SM2 ``sm2_public_key`` is the signer's key; without one no SM2 sign matches.
    """
    if SignType(sign_type) is SignType.SM2:
        return sm2_public_key is not None and sm2.verify(
            sm2_public_key, canonical_string(members).encode("utf-8"), given
        )
    expected = compute_sign(members, secret, sign_type)
    return std_hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8"))
