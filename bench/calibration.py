"""The machine's speed at the moment: orjson load + dump of a 36 KB FHIR search page on one core.

This machine's speed drifts by up to 2x within an hour (bench/README.md, reads, stop 27), so the
read and ingest benchmarks print this figure before and after their runs. Issue 11 quoted 85 µs
for this work on a HAPI page when it set its targets. A CPU figure divided by this one compares
better across hours, not perfectly: interpreted code and waits slow down by other factors.
"""

from __future__ import annotations

import os
import statistics
import time

import orjson

ISSUE_US = 85.0  # what issue 11 measured for this work when it set the 1.5 ms target
PAGE_BYTES = 36_000
_ITEM = (
    "major surgery (over 45 minutes) or an immobilising plaster cast within the last month, "
    "recorded at admission"
)


def search_page() -> bytes:
    """A searchset Bundle of 20 Observations of ``PAGE_BYTES``, about as many JSON values per KB as
    HAPI's Encounter pages in ``bench reads`` (1,234 in 36.7 KB): orjson's cost follows the
    values more than the bytes."""

    def component(k: int) -> dict[str, object]:
        display = f"Item {k}: {_ITEM}"
        coding = {"system": "urn:vte:caprini-item", "code": f"item-{k}", "display": display}
        return {"code": {"coding": [coding]}, "valueInteger": k % 4}

    def entry(n: int, items: int) -> dict[str, object]:
        rid = f"{n:032x}"
        return {
            "fullUrl": f"http://127.0.0.1:8080/fhir/Observation/{rid}",
            "resource": {
                "resourceType": "Observation",
                "id": rid,
                "meta": {"versionId": "1", "lastUpdated": "2026-03-01T10:00:00.000+00:00"},
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "48065-7"}]},
                "subject": {"reference": f"Patient/{n:032x}"},
                "encounter": {"reference": f"Encounter/{n:032x}"},
                "effectiveDateTime": "2026-03-01T08:00:00+08:00",
                "valueQuantity": {"value": 0.5 + n / 100, "unit": "mg/L", "code": "mg/L"},
                "component": [component(k) for k in range(items)],
            },
            "search": {"mode": "match"},
        }

    def page(items: int) -> bytes:
        entries = [entry(n, items) for n in range(20)]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": 20, "entry": entries}
        return orjson.dumps(bundle)

    bare = len(page(0))
    per_item = (len(page(10)) - bare) / 10
    return page(round((PAGE_BYTES - bare) / per_item))


def orjson_page_us(core: str | None = None, rounds: int = 7, loops: int = 1000) -> float:
    """Median µs per load + dump of ``search_page()``, this thread pinned to ``core`` meanwhile."""
    raw = search_page()
    before = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {int(core)})
    try:
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(loops):
                orjson.dumps(orjson.loads(raw))
            timings.append((time.perf_counter() - started) / loops * 1e6)
    finally:
        os.sched_setaffinity(0, before)
    return statistics.median(timings)


def report(core: str) -> float:
    """Measure ``orjson_page_us`` on ``core`` and print it; returns the figure."""
    us = orjson_page_us(core)
    print(f"== machine: orjson load + dump of a 36 KB page on core {core}: {us:.0f} µs", flush=True)
    return us
