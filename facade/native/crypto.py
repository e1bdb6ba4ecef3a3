"""Optional payload encryption on the wire: SM4-GCM or AES-256-GCM with envelope-bound AAD (§2.7)."""

from __future__ import annotations

import base64
import binascii
import os
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

IV_BYTES = 12
TAG_BYTES = 16
HKDF_INFO = b"VTE-X-ENC-v1"


class EncType(StrEnum):
    """Whether and how ``bizContent`` is encrypted into ``encData``."""

    NONE = "NONE"
    SM4_GCM = "SM4-GCM"
    AES_256_GCM = "AES-256-GCM"


KEY_BYTES = {EncType.SM4_GCM: 16, EncType.AES_256_GCM: 32}


class DecryptionFailed(ValueError):
    """Ciphertext, IV, key or tag did not authenticate (or was not well-formed Base64)."""


def envelope_aad(app_id: str, timestamp: str, nonce: str) -> bytes:
    """``appId|timestamp|nonce``: binds a ciphertext to its own envelope, so it cannot be transplanted."""
    return f"{app_id}|{timestamp}|{nonce}".encode()


def derive_enc_key(enc_type: EncType, app_secret: str, app_id: str) -> bytes:
    """The app's payload key: HKDF(ikm = appSecret as UTF-8, salt = appId, info = "VTE-X-ENC-v1").

    SM4-GCM derives 16 bytes with HKDF-SM3, AES-256-GCM 32 bytes with HKDF-SHA256, so a 国密
    deployment uses 国密 primitives end to end. One distributed secret serves signing and
    encryption, yet the two keys are cryptographically independent.
    """
    algorithm: hashes.HashAlgorithm = (
        hashes.SM3() if enc_type is EncType.SM4_GCM else hashes.SHA256()
    )
    hkdf = HKDF(
        algorithm=algorithm, length=KEY_BYTES[enc_type], salt=app_id.encode("utf-8"), info=HKDF_INFO
    )
    return hkdf.derive(app_secret.encode("utf-8"))


def gcm_seal(enc_type: EncType, key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``ciphertext ‖ tag16`` of ``plaintext`` under ``key`` and a 12-byte ``iv``."""
    if enc_type is EncType.AES_256_GCM:
        return AESGCM(key).encrypt(iv, plaintext, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def gcm_open(enc_type: EncType, key: bytes, iv: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of ``ciphertext ‖ tag16``; DecryptionFailed if anything does not authenticate."""
    if len(iv) != IV_BYTES or len(sealed) < TAG_BYTES:
        raise DecryptionFailed("iv must be 12 bytes and the data at least one tag long")
    try:
        if enc_type is EncType.AES_256_GCM:
            return AESGCM(key).decrypt(iv, sealed, aad)
        body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(iv, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag as exc:
        raise DecryptionFailed("authentication tag mismatch") from exc


def encrypt_payload(
    enc_type: EncType, key: bytes, plaintext: bytes, aad: bytes, *, iv: bytes | None = None
) -> tuple[str, str]:
    """``(iv, encData)`` as Base64 for an envelope; a fresh random IV unless one is given (tests)."""
    iv = iv if iv is not None else os.urandom(IV_BYTES)
    sealed = gcm_seal(enc_type, key, iv, plaintext, aad)
    return base64.b64encode(iv).decode("ascii"), base64.b64encode(sealed).decode("ascii")


def decrypt_payload(enc_type: EncType, key: bytes, iv_b64: str, data_b64: str, aad: bytes) -> bytes:
    """The plaintext carried by an envelope's ``iv`` and ``encData`` (standard Base64, padded)."""
    try:
        iv = base64.b64decode(iv_b64, validate=True)
        sealed = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed("iv or encData is not valid Base64") from exc
    return gcm_open(enc_type, key, iv, sealed, aad)
