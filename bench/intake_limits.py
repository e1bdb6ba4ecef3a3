"""What the FHIR door's intake limits cost the facade, as ratios to parsing the same body.

``python -m bench intake-limits``: a 1,000-entry transaction Bundle made of the guide's examples
(about 1.3 MB), timed as the write path handles it: ``orjson.loads`` (baseline), the intake-limit
pass (``facade.frontdoor.limits.check_limits``) and, for scale, the structure check of every
entry (``facade.fhir.models.check_structure``). Best of 5 (structure: best of 2). No HAPI needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from facade.fhir.models import check_structure
from facade.frontdoor.limits import IntakeLimits, check_limits
from facade.ig.loader import example_resources
from facade.settings import Settings

ENTRIES = 1000


def _best(run: Callable[[], Any], times: int) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    settings = Settings()
    examples = [
        r
        for r in example_resources(settings.profiles_dir / "fsh-generated" / "resources")
        if r["resourceType"] != "MeasureReport"
    ]
    entries = [
        {"resource": examples[i % len(examples)], "request": {"method": "POST", "url": "x"}}
        for i in range(ENTRIES)
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    raw = orjson.dumps(bundle)
    limits = IntakeLimits.from_settings(settings)
    assert check_limits(bundle, "Bundle", limits) == []
    parse = _best(lambda: orjson.loads(raw), 5)
    check = _best(lambda: check_limits(bundle, "Bundle", limits), 5)

    def check_every_entry() -> None:
        for entry in entries:
            check_structure(entry["resource"])

    structure = _best(check_every_entry, 2)
    print(f"intake-limits: {ENTRIES} entries, {len(raw):,} bytes")
    print(f"  orjson.loads        {parse * 1000:8.1f} ms  (baseline)")
    print(f"  check_limits        {check * 1000:8.1f} ms  = {check / parse:5.2f} x baseline")
    print(
        f"  check_structure     {structure * 1000:8.1f} ms  = {structure / parse:5.1f} x baseline"
    )


if __name__ == "__main__":
    main()
