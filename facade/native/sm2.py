"""SM2 signatures (SM3withSM2, GB/T 32918.2) for ``signType=SM2``, through GmSSL's C code (gmssl-pyx).

Keys travel as hex: a private key is 32 bytes (64 hex digits); a public key is the uncompressed
point ``04 ‖ x ‖ y`` (130 hex digits), and ``x ‖ y`` or a compressed point are accepted too.
A ``sign`` is ``r ‖ s`` as 128 upper-case hex digits (what sm-crypto and most vendor SDKs call the
"raw" form; DER from BouncyCastle converts with :func:`raw_from_der`). The signer identity is
the standard default ``1234567812345678`` on both sides.

Why gmssl-pyx (see facade/native/README.md, "SM2"): ``cryptography`` has no SM2; gmssl 3.2.2
draws the signing nonce from :mod:`random` (not a CSPRNG), which leaks the private key.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import gmssl_pyx

from facade.errors import ConfigurationError

if TYPE_CHECKING:
    from facade.settings import Settings

DEFAULT_SIGNER_ID = b"1234567812345678"
SIGN_HEX = re.compile(r"[0-9A-F]{128}")
PRIVATE_HEX = re.compile(r"[0-9a-fA-F]{64}")
# The order n of the SM2 recommended curve (GB/T 32918.5): r and s must lie in [1, n-1].
CURVE_ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


class Sm2KeyError(ValueError):
    """A key that is not an SM2 key of the recommended curve (wrong length, not on the curve)."""


def parse_public_key(text: str) -> bytes:
    """The 64-byte ``x ‖ y`` of a hex public key; Sm2KeyError unless it is a point on the curve."""
    try:
        return bytes(gmssl_pyx.normalize_sm2_public_key(text.strip()))
    except gmssl_pyx.InvalidValueError as exc:
        raise Sm2KeyError(
            "not an SM2 public key (hex of 04‖x‖y, x‖y or a compressed point)"
        ) from exc


def public_key_hex(public_key: bytes) -> str:
    """The uncompressed form ``04 ‖ x ‖ y`` as upper-case hex (what the platform hands out)."""
    return "04" + public_key.hex().upper()


def parse_private_key(text: str) -> bytes:
    """The 32 bytes of a hex private key in [1, n-2]; Sm2KeyError otherwise."""
    if not PRIVATE_HEX.fullmatch(text.strip()):
        raise Sm2KeyError("an SM2 private key is 64 hex digits")
    key = bytes.fromhex(text.strip())
    if not 1 <= int.from_bytes(key, "big") <= CURVE_ORDER - 2:
        raise Sm2KeyError("the SM2 private key is out of range")
    return key


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh ``(private_key, public_key)`` pair from GmSSL's random generator."""
    public, private = gmssl_pyx.sm2_key_generate()
    return bytes(private), bytes(public)


def _der_int(value: int) -> bytes:
    body = value.to_bytes(33, "big").lstrip(b"\0") or b"\0"
    if body[0] & 0x80:
        body = b"\0" + body
    return b"\x02" + bytes([len(body)]) + body


def der_from_raw(raw: bytes) -> bytes:
    """``SEQUENCE { INTEGER r, INTEGER s }`` from the 64 bytes ``r ‖ s``."""
    body = _der_int(int.from_bytes(raw[:32], "big")) + _der_int(int.from_bytes(raw[32:], "big"))
    return b"\x30" + bytes([len(body)]) + body


def raw_from_der(der: bytes) -> bytes:
    """The 64 bytes ``r ‖ s`` of a DER signature (short-form lengths only, as SM2 always has)."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not a DER SM2 signature")
    values: list[int] = []
    at = 2
    for _ in range(2):
        if der[at] != 0x02:
            raise ValueError("not a DER SM2 signature")
        length = der[at + 1]
        values.append(int.from_bytes(der[at + 2 : at + 2 + length], "big"))
        at += 2 + length
    if at != len(der):
        raise ValueError("not a DER SM2 signature")
    return values[0].to_bytes(32, "big") + values[1].to_bytes(32, "big")


def sign(private_key: bytes, public_key: bytes, message: bytes) -> str:
    """``r ‖ s`` over ``SM3(Z ‖ message)`` as 128 upper-case hex digits (fresh random k each time)."""
    der = gmssl_pyx.sm2_sign(private_key, public_key, message, signer_id=DEFAULT_SIGNER_ID)
    return raw_from_der(bytes(der)).hex().upper()


def verify(public_key: bytes, message: bytes, sign_hex: str) -> bool:
    """Whether ``sign_hex`` (``r ‖ s``, upper-case hex) is a valid SM2 signature of ``message``."""
    if not SIGN_HEX.fullmatch(sign_hex):
        return False
    raw = bytes.fromhex(sign_hex)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (1 <= r < CURVE_ORDER and 1 <= s < CURVE_ORDER):
        return False
    try:
        return bool(
            gmssl_pyx.sm2_verify(
                public_key, message, der_from_raw(raw), signer_id=DEFAULT_SIGNER_ID
            )
        )
    except gmssl_pyx.GmsslInnerError:
        return False


def check_pair(private_key: bytes, public_key: bytes) -> bool:
    """Whether the two keys belong together (a fresh signature verifies under the public key)."""
    probe = b"vte-x sm2 key pair check"
    return verify(public_key, probe, sign(private_key, public_key, probe))


def platform_keys(settings: Settings) -> tuple[bytes, bytes] | None:
    """The platform's SM2 key pair from settings, checked to belong together; None if not configured."""
    if settings.platform_sm2_key is None:
        return None
    try:
        private = parse_private_key(settings.platform_sm2_key.get_secret_value())
        public = parse_public_key(settings.platform_sm2_public_key)
    except Sm2KeyError as exc:
        raise ConfigurationError(f"VTE_PLATFORM_SM2_KEY / _PUBLIC_KEY: {exc}") from exc
    if not check_pair(private, public):
        raise ConfigurationError(
            "VTE_PLATFORM_SM2_PUBLIC_KEY does not belong to VTE_PLATFORM_SM2_KEY"
        )
    return private, public
