"""Keyed pseudonyms (HMAC-SM3): the same person gets the same token in every hospital of the region.

A plain hash of an identity number is reversible by enumeration (the ID space is small and
structured), so the token is an HMAC under a regional key that never leaves the platform.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac


def _hmac_sm3(key: bytes, message: str) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message.encode("utf-8"))
    return mac.finalize().hex()


def normalise_id_number(id_number: str) -> str:
    """Canonical form of an identity number: no spaces, upper-case (the resident-ID check char ``x``)."""
    return "".join(id_number.split()).upper()


def regional_pseudonym(id_type: str, id_number: str, key: bytes) -> str:
    """The regional patient pseudonym for an identity document.

    The document type is part of the input, so a passport number cannot collide with a resident ID.
    ``regional_pseudonym("01", "11010519491231002X", key)`` -> 64 lower-case hex characters.
    """
    return _hmac_sm3(key, f"{id_type}|{normalise_id_number(id_number)}")


def research_pseudonym(regional: str, key: bytes) -> str:
    """A second, research-only pseudonym derived from the regional one under the research key.

    Researchers can link a patient's records with it but cannot join them back to the regional
    pseudonym used by quality control.
    """
    return _hmac_sm3(key, f"research|{regional}")[:32]
