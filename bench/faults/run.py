"""``python -m bench faults``: the long fault runs (10,000 records each) with the product's timers.

Environment: VTE_BENCH_FAULT_RECORDS (10,000 records per scenario), VTE_BENCH_FAULTS (a comma
list of scenario names, default all), VTE_BENCH_HAPI_PORT (8097; PostgreSQL on +47300, the
facades on +5 and +6). Prints each verdict and timing; writes var/bench-faults/results.json;
exits non-zero when a scenario lost, duplicated or reordered a record.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson

from bench.faults.scenarios import SCENARIOS
from bench.faults.site import Ports, Site

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    """Run the chosen scenarios on one site, started from nothing and deleted afterwards."""
    records = int(os.environ.get("VTE_BENCH_FAULT_RECORDS", "10000"))
    port = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8097"))
    chosen = os.environ.get("VTE_BENCH_FAULTS", ",".join(SCENARIOS)).split(",")
    root = REPO / "var" / "bench-faults"
    site = Site(root / "site", Ports(postgres=port + 47300, hapi=port, facade=port + 5))
    results = []
    try:
        print(f"faults: site started {site.start()}")
        for name in chosen:
            started = time.monotonic()
            result = SCENARIOS[name](site, records)
            results.append(result.as_dict())
            print(
                f"faults: {name}: {result.records} records in {result.batches} batches, "
                f"{time.monotonic() - started:.0f} s, verdict {result.verdict.as_dict()}, "
                f"figures {result.figures}"
            )
    finally:
        site.stop()
        (root / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if not all(r["verdict"]["ok"] for r in results):
        raise SystemExit(1)
