"""The tests' FHIR-door kits, shared with the benchmarks rather than copied.

``tests/smart_kit.py`` registers SMART Backend Services clients and fetches their tokens;
``tests/frontdoor/frontdoor_stay.py`` builds a hospital's stay as a transaction Bundle from the
guide's examples. Benchmarks that post to the FHIR door use the same two.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def test_kits() -> tuple[Any, Any]:
    """``(smart_kit, frontdoor_stay)``, imported from the test tree."""
    for folder in (REPO / "tests", REPO / "tests" / "frontdoor"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import frontdoor_stay  # type: ignore[import-not-found]
    import smart_kit  # type: ignore[import-not-found]

    return smart_kit, frontdoor_stay
