"""Encryption at rest for app secrets and stored records: SM4-GCM under keys derived from the master key.

During a master-key rotation a box also holds the key derived from ``VTE_PREVIOUS_MASTER_KEY``:
it seals only with the current key and opens with either, so the service keeps running while
``vte-facade keys rotate-master`` re-seals the stored blobs (facade/keys/rotation.py).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facade.native.crypto import IV_BYTES, DecryptionFailed, EncType, gcm_open, gcm_seal
from facade.settings import Settings

# One derived key per purpose, so a key recovered from one table opens nothing in another.
APP_SECRETS = "vte-x/app-secret/v1"
RECORD_PAYLOADS = "vte-x/record-payload/v1"


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """HKDF-SM3(master_key, info=purpose), 16 bytes: the SM4 key of one purpose."""
    hkdf = HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=purpose.encode("ascii"))
    return hkdf.derive(master_key)


class SecretBox:
    """Seals bytes as ``iv ‖ ciphertext ‖ tag`` with SM4-GCM; the AAD ties each blob to its row."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        if any(len(k) != 16 for k in (key, *older)):
            raise ValueError("SM4 keys are 16 bytes")
        self._key = key
        self._older = older

    @classmethod
    def for_purpose(cls, settings: Settings, purpose: str) -> SecretBox:
        """A box whose key is HKDF-SM3(master_key, info=purpose); the key itself is never stored.

        With ``previous_master_key`` set, the key derived from it still opens (never seals).
        """
        older = (
            (derive_key(settings.secret("previous_master_key"), purpose),)
            if settings.previous_master_key is not None
            else ()
        )
        return cls(derive_key(settings.secret("master_key"), purpose), *older)

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        """Encrypt ``plaintext``; ``aad`` (e.g. ``appId|keyVersion``) must be given again to open it."""
        iv = os.urandom(IV_BYTES)
        return iv + gcm_seal(EncType.SM4_GCM, self._key, iv, plaintext, aad.encode("utf-8"))

    def open(self, blob: bytes, aad: str) -> bytes:
        """Decrypt a sealed blob; DecryptionFailed if it was altered, moved to another row or no key fits."""
        return self._open(blob, aad)[0]

    def reseal(self, blob: bytes, aad: str) -> bytes | None:
        """The blob sealed anew under the current key, or None when it already is.

        DecryptionFailed when no key of this box opens it (the operator must find out why).
        """
        plaintext, current = self._open(blob, aad)
        return None if current else self.seal(plaintext, aad)

    def _open(self, blob: bytes, aad: str) -> tuple[bytes, bool]:
        """The plaintext and whether the current key opened it (GCM's tag tells which key fits)."""
        iv, body, data = blob[:IV_BYTES], blob[IV_BYTES:], aad.encode("utf-8")
        for index, key in enumerate((self._key, *self._older)):
            try:
                return gcm_open(EncType.SM4_GCM, key, iv, body, data), index == 0
            except DecryptionFailed:
                continue
        raise DecryptionFailed("no configured master key opens this blob")
