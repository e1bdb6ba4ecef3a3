"""What a receipt or an alarm may say about HAPI's refusal: the rule it names, never quoted values."""

from __future__ import annotations

import re

from facade.errors import UpstreamRejected

# Quoted values in HAPI messages may be data (a birth date): they are dropped, except conditional
# URLs and the description HAPI quotes after "Constraint failed: <id>:" (the profile's own text).
_QUOTED = re.compile(r"""(['"])(?![A-Z][A-Za-z]+\?)[^'"]{1,300}\1""")
_CONSTRAINT = re.compile(r"Constraint failed: [A-Za-z0-9.-]+: $")


def redact_quotes(text: str) -> str:
    """``text`` with quoted values replaced by an ellipsis (conditional URLs and invariant texts kept)."""

    def redact(match: re.Match[str]) -> str:
        if _CONSTRAINT.search(text[: match.start()]):
            return match.group(0)
        return f"{match.group(1)}…{match.group(1)}"

    return _QUOTED.sub(redact, text)


def reason_text(error: UpstreamRejected) -> str:
    """HAPI's message for a receipt: the rule it names, no quoted values."""
    return redact_quotes(
        f"FHIR server refused the record ({error.upstream_status}): {error.message}"
    )
