"""Identity-document numbers on the FHIR door: check, replace by the regional pseudonym, never keep.

A Patient.identifier carrying an identity number (resident ID system, or any identifier typed with
a CV02.01.101 document type) becomes ``{system: regional-pseudonym, value: HMAC-SM3(...), type}``:
the same pseudonym ``regional_pseudonym(id_type, number, key)`` the native door derives, so a
person sent through either door is one person. The stored Patient keeps only the pseudonym.
"""

from __future__ import annotations

import re
from typing import Any

from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, code_system_url
from facade.privacy.pseudonym import normalise_id_number, regional_pseudonym

# 居民身份证号 (WS/T 500 OID for the patient identity-card number).
RESIDENT_ID_SYSTEM = "urn:oid:2.16.156.10011.1.3"
ID_DOCUMENT_TYPE_SYSTEM = code_system_url("cv02-01-101-id-document-type")
RESIDENT_ID_TYPE = "01"
_DOC_TYPE_NAMES = {
    "01": "居民身份证",
    "02": "居民户口簿",
    "03": "护照",
    "04": "军官证",
    "05": "驾驶证",
    "06": "港澳居民来往内地通行证",
    "07": "台湾居民来往内地通行证",
    "99": "其他法定有效证件",
}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Candidates inside free text: 18 characters not glued to other letters or digits.
RESIDENT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def resident_id_valid(number: str) -> bool:
    """GB 11643-1999: 17 digits, then the ISO 7064 MOD 11-2 check character (0-9 or X)."""
    value = normalise_id_number(number)
    if not _RESIDENT_SHAPE.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17]


def contains_resident_id(text: str) -> bool:
    """Whether free text holds something that passes the resident-ID check (never store that)."""
    return any(resident_id_valid(m.group(0)) for m in RESIDENT_IN_TEXT.finditer(text))


def document_type(identifier: dict[str, Any]) -> str | None:
    """The CV02.01.101 document type an identifier carries a number of, or None if it is no ID."""
    if identifier.get("system") == REGIONAL_PSEUDONYM_SYSTEM:
        return None
    if identifier.get("system") == RESIDENT_ID_SYSTEM:
        return RESIDENT_ID_TYPE
    for coding in (identifier.get("type") or {}).get("coding") or []:
        if (
            isinstance(coding, dict)
            and coding.get("system") == ID_DOCUMENT_TYPE_SYSTEM
            and coding.get("code")
        ):
            return str(coding["code"])
    return None


def pseudonymised_identifier(id_type: str, number: str, key: bytes) -> dict[str, Any]:
    """The identifier stored in place of an identity number."""
    coding: dict[str, str] = {"system": ID_DOCUMENT_TYPE_SYSTEM, "code": id_type}
    if id_type in _DOC_TYPE_NAMES:
        coding["display"] = _DOC_TYPE_NAMES[id_type]
    return {
        "system": REGIONAL_PSEUDONYM_SYSTEM,
        "value": regional_pseudonym(id_type, number, key),
        "type": {"coding": [coding]},
    }


def pseudonymise_token(system: str, value: str, key: bytes) -> str | None:
    """A search/match token ``system|value`` rewritten to the pseudonym form, or None if not an ID."""
    if system != RESIDENT_ID_SYSTEM:
        return None
    return f"{REGIONAL_PSEUDONYM_SYSTEM}|{regional_pseudonym(RESIDENT_ID_TYPE, value, key)}"
