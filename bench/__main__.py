"""Run the benchmarks: ``python -m bench [name ...]`` (default: all)."""

from __future__ import annotations

import sys

from bench import (
    backup_drill,
    console_overview,
    extract,
    fuzz,
    hapi_startup,
    indicators,
    intake_limits,
    views,
)
from bench.faults import run as fault_runs

BENCHMARKS = {
    "hapi-startup": hapi_startup.main,
    "indicators": indicators.main,
    "console": console_overview.main,
    "extract": extract.main,
    "intake-limits": intake_limits.main,
    "views": views.main,
    "backup": backup_drill.main,
    "fuzz": fuzz.main,
    "faults": fault_runs.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
            return 2
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
