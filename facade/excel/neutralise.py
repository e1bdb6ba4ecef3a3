"""Formula-injection guard for text the facade writes into spreadsheets (OWASP CSV-injection advice)."""

from __future__ import annotations

from typing import Any

# A cell whose text starts with one of these is run as a formula by Excel, LibreOffice or WPS.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program could read ``text`` as a formula."""
    return text.startswith(TRIGGERS)


def neutralise(value: Any) -> Any:
    """``value`` made safe to write into a cell: formula-like text gets a leading ``'``.

    Numbers, booleans and dates pass unchanged (they cannot carry a formula). The quote is the
    OWASP recommendation; it shows up as a visible character, which is the point: a reviewer
    sees that the uploaded text began with a formula trigger.
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
