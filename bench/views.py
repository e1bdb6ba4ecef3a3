"""CPU cost of the role views (facade.privacy.projector) per resource and per 20-resource page.

No server: the page is the guide's examples of one stay (Patient, Encounter, assessments,
diagnoses, operations, prophylaxis, the hospital), repeated to 20 resources with distinct ids
and patients, as HAPI returns them in a search page. The baseline measured in the same run is
``orjson.loads`` of that page's JSON, which the read path pays anyway.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from facade.ig.loader import example_resources
from facade.privacy.projector import Keys, Projector
from facade.security.roles import View

REPO = Path(__file__).resolve().parent.parent
PAGE = 20
REPEATS = 7


def _page() -> list[dict[str, object]]:
    examples = [
        r
        for r in example_resources(REPO / "profiles" / "fsh-generated" / "resources")
        if r["resourceType"] != "MeasureReport"
    ]
    page = []
    for i in range(PAGE):
        resource = copy.deepcopy(examples[i % len(examples)])
        resource["id"] = f"{resource['id']}-{i}"
        if isinstance(resource.get("subject"), dict):
            resource["subject"]["reference"] = f"Patient/p-{i // len(examples)}"
        page.append(resource)
    return page


def _cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    """Median CPU seconds of one call, over REPEATS runs of ``calls`` calls."""
    runs = []
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(calls):
            fn()
        runs.append((time.process_time() - started) / calls)
    return statistics.median(runs)


def main() -> None:
    started = time.perf_counter()
    projector = Projector.load(REPO / "mappings", REPO / "profiles", Keys(b"p" * 32, b"r" * 32, 50))
    load_seconds = time.perf_counter() - started
    page = _page()
    text = orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in page]})
    subjects = {f"p-{i}": "ab" * 32 for i in range(PAGE)}

    def project(view: View) -> Callable[[], object]:
        def run() -> object:
            return [
                projector.project(view, r, subjects.get(projector.patient_id(r) or "", "x"))
                for r in page
            ]

        return run

    baseline = _cpu_per_call(lambda: orjson.loads(text), 300)
    print(f"views: start-up (load, check, compile) {load_seconds * 1000:.0f} ms")
    print(f"page of {PAGE} resources, {len(text) / 1024:.1f} KiB JSON")
    print(f"  baseline orjson.loads            {baseline * 1e3:.3f} ms/page")
    for view in (View.PSEUDONYMISED, View.DEIDENTIFIED):
        cost = _cpu_per_call(project(view), 300)
        print(
            f"  {view.value:<15} projection      {cost * 1e3:.3f} ms/page, "
            f"{cost / PAGE * 1e6:.1f} µs/resource, {cost / baseline:.1f}x baseline"
        )


if __name__ == "__main__":
    main()
