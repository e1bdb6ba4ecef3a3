"""What the audit trail keeps of a request: no identity number, no identifier value, no safe-looking id.

Queries are judged after percent-decoding (``identifier=sys%7C110...`` is ``identifier=sys|110...``
by then): every value of a search parameter that names a person directly (``identifier``,
``name``, ``telecom``, ...), wherever it sits in a chain (``subject:Patient.identifier``,
``_has:Observation:patient:identifier``), is replaced by a mask, keeping an identifier's system;
anything shaped like an identity number (15 or 18 characters, spaces or hyphens inside allowed)
is masked everywhere else. The result stays readable: only ``%``, ``&`` and ``=`` are escaped.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl

IDENTITY_MASK = "[identity-number]"
VALUE_MASK = "[masked]"
# Search parameters (R4 Patient/RelatedPerson/Practitioner and any type's identifier) whose
# values identify a person directly.
PERSONAL_PARAMETERS = frozenset(
    {
        "identifier",
        "name",
        "family",
        "given",
        "phonetic",
        "telecom",
        "phone",
        "email",
        "address",
        "address-city",
        "address-district",
        "address-postalcode",
        "address-state",
    }
)
# First-generation (15 digits) and current (17 digits + check character) resident ID numbers,
# also when written in groups; never glued to other letters or digits.
_IDENTITY_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d(?:[ -]?\d){14}(?:(?:[ -]?\d){2}[ -]?[\dXx])?(?![0-9A-Za-z])"
)
# A request id we keep, echo and log as given; anything else is replaced by a fresh one.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def mask_text(text: str) -> str:
    """``text`` with everything shaped like an identity number masked."""
    return _IDENTITY_NUMBER.sub(IDENTITY_MASK, text)


def _parameter(name: str) -> str:
    """The search parameter a (possibly chained or reverse-chained) name ends in, without modifier."""
    if name.startswith("_has:"):
        return name.rsplit(":", 1)[-1]
    return name.rsplit(".", 1)[-1].split(":", 1)[0]


def _masked_value(parameter: str, value: str) -> str:
    if parameter not in PERSONAL_PARAMETERS:
        return mask_text(value)
    if parameter != "identifier":
        return VALUE_MASK
    parts = []
    for token in value.split(","):
        system, bar, _ = token.rpartition("|")
        parts.append(f"{mask_text(system)}|{VALUE_MASK}" if bar else VALUE_MASK)
    return ",".join(parts)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("&", "%26").replace("=", "%3D")


def mask_query(query: str) -> str:
    """A raw (percent-encoded) query string as the audit trail may keep it."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(
        f"{_escape(mask_text(name))}={_escape(_masked_value(_parameter(name), value))}"
        for name, value in pairs
    )


def safe_request_id(given: str | None) -> str:
    """The client's X-Request-ID when it is a safe token holding no identity number, else a new one."""
    if given and _SAFE_REQUEST_ID.fullmatch(given) and mask_text(given) == given:
        return given
    return uuid.uuid4().hex
