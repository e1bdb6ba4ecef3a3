"""Per-patient date shifting for the research view: one secret offset moves every date of a patient.

The offset is ``HMAC-SM3(research_key, "date-shift|" + subject)`` mapped onto ±1..N days (never
0, so no real date slips through). ``subject`` is the regional pseudonym, so the same person gets
the same offset in every hospital and intervals across hospitals stay exact too. Only the
calendar-date part of a value moves; time of day and zone are kept, so hour-level intervals
(admission -> risk assessment within 24 h) are exactly those of the real data.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from cryptography.hazmat.primitives import hashes, hmac

# FHIR date / dateTime / instant: YYYY, YYYY-MM, YYYY-MM-DD, then an optional time and zone.
DATE_LIKE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?P<rest>T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def shift_days(key: bytes, subject: str, max_days: int) -> int:
    """The patient's secret offset in days: in [-max_days, -1] or [1, max_days]."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(f"date-shift|{subject}".encode())
    number = int.from_bytes(mac.finalize()[:8], "big")
    magnitude = 1 + (number >> 1) % max_days
    return magnitude if number & 1 else -magnitude


def is_date_like(value: str) -> bool:
    """Whether a string has the shape of a FHIR date, dateTime or instant."""
    return DATE_LIKE.match(value) is not None


def shift_date_value(value: str, days: int) -> str | None:
    """Move a FHIR date/dateTime by ``days``; partial dates (YYYY, YYYY-MM) become a year.

    Returns None for something date-shaped that is not a real date (the caller drops it rather
    than pass on an unshifted value).
    """
    match = DATE_LIKE.match(value)
    if not match:
        return None
    year, month, day = int(match["y"]), match["m"], match["d"]
    try:
        if day is None:
            # Year or year-month only: shift the middle of the period and keep just the year.
            middle = date(year, int(month), 15) if month else date(year, 7, 1)
            return f"{(middle + timedelta(days=days)).year:04d}"
        moved = date(year, int(month or 1), int(day)) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return moved.isoformat() + (match["rest"] or "")


def year_only(value: str) -> str | None:
    """Generalise a date to its year (birth dates in the research view)."""
    match = DATE_LIKE.match(value)
    return match["y"] if match else None
