"""Run the benchmarks: ``python -m bench [name ...]`` (default: all)."""

from __future__ import annotations

import importlib
import sys

# name -> module whose ``main`` runs it; imported only when chosen (each pulls in its own set-up).
BENCHMARKS = {
    "hapi-startup": "bench.hapi_startup",
    "indicators": "bench.indicators",
    "ingest": "bench.ingest",
    "console": "bench.console_overview",
    "extract": "bench.extract",
    "intake-limits": "bench.intake_limits",
    "views": "bench.views",
    "reads": "bench.reads",
    "backup": "bench.backup_drill",
    "dq": "bench.dq",
    "fuzz": "bench.fuzz",
    "faults": "bench.faults.run",
    "load": "bench.load",
    "refresh": "bench.refresh",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
            return 2
    for name in names:
        importlib.import_module(BENCHMARKS[name]).main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
