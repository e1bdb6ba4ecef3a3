"""Encryption at rest for app secrets and stored records: SM4-GCM under keys derived from the master key."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facade.native.crypto import IV_BYTES, EncType, gcm_open, gcm_seal
from facade.settings import Settings

# One derived key per purpose, so a key recovered from one table opens nothing in another.
APP_SECRETS = "vte-x/app-secret/v1"
RECORD_PAYLOADS = "vte-x/record-payload/v1"


class SecretBox:
    """Seals bytes as ``iv ‖ ciphertext ‖ tag`` with SM4-GCM; the AAD ties each blob to its row."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("SM4 keys are 16 bytes")
        self._key = key

    @classmethod
    def for_purpose(cls, settings: Settings, purpose: str) -> SecretBox:
        """A box whose key is HKDF-SM3(master_key, info=purpose); the key itself is never stored."""
        hkdf = HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=purpose.encode("ascii"))
        return cls(hkdf.derive(settings.secret("master_key")))

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        """Encrypt ``plaintext``; ``aad`` (e.g. ``appId|keyVersion``) must be given again to open it."""
        iv = os.urandom(IV_BYTES)
        return iv + gcm_seal(EncType.SM4_GCM, self._key, iv, plaintext, aad.encode("utf-8"))

    def open(self, blob: bytes, aad: str) -> bytes:
        """Decrypt a sealed blob; DecryptionFailed if it was altered, moved to another row or the key changed."""
        return gcm_open(
            EncType.SM4_GCM, self._key, blob[:IV_BYTES], blob[IV_BYTES:], aad.encode("utf-8")
        )
