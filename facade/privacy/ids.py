"""Research resource ids: logical ids encrypted (AES-SIV, deterministic) so researchers can follow
references and read by id, yet never see a stored id (which a hospital may have chosen from a
record number).

The id is bound to its resource type, so a Patient research id can't be replayed as an Encounter
id. Ids too long to encrypt within FHIR's 64 characters get a keyed hash instead: consistent
across responses, but not readable by id (documented limit; server-assigned UUIDs always fit).
"""

from __future__ import annotations

import base64
import re
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAX_ID = 64
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# base64url with '_' swapped for '.', so the result uses FHIR id characters only.
_TO_ID = str.maketrans("_", ".")
_FROM_ID = str.maketrans(".", "_")


class ResearchIds:
    """Encrypt and decrypt logical ids for the research view under a key derived from research_key."""

    def __init__(self, research_key: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"vte-facade research ids"
        ).derive(research_key)
        self._siv = AESSIV(derived)
        self._mac_key = derived[:32]

    def encode(self, resource_type: str, real_id: str) -> str:
        """The research id of ``resource_type/real_id``."""
        if _UUID.match(real_id):
            plain = b"\x01" + uuid.UUID(real_id).bytes
        else:
            plain = b"\x00" + real_id.encode("utf-8")
        sealed = self._siv.encrypt(plain, [resource_type.encode("ascii")])
        text = base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=").translate(_TO_ID)
        if len(text) <= _MAX_ID:
            return text
        mac = hmac.HMAC(self._mac_key, hashes.SHA256())
        mac.update(f"{resource_type}/{real_id}".encode())
        return "x" + mac.finalize().hex()[:40]

    def decode(self, resource_type: str, research_id: str) -> str | None:
        """The stored id behind a research id, or None when it is not one of ours."""
        if not research_id or len(research_id) > _MAX_ID:
            return None
        text = research_id.translate(_FROM_ID)
        try:
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            plain = self._siv.decrypt(sealed, [resource_type.encode("ascii")])
        except (ValueError, InvalidTag):
            return None
        if plain[:1] == b"\x01" and len(plain) == 17:
            return str(uuid.UUID(bytes=plain[1:]))
        if plain[:1] == b"\x00":
            return plain[1:].decode("utf-8", errors="strict")
        return None
