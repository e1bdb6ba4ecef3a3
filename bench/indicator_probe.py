"""One facade process evaluating the full indicator set: ``python -m bench.indicator_probe BASE PERIOD ORGS REPEATS``.

Run as its own process so its peak RSS is the engine's alone (the benchmark's loader holds the
whole synthetic region in memory). Prints one JSON document: idle RSS after importing and loading
the definitions, peak RSS, and per run the phase timings and the searches sent (for the baselines).
"""

from __future__ import annotations

import asyncio
import resource
import sys
from pathlib import Path
from typing import Any

import orjson

from facade.indicators.service import catalog, engine
from facade.settings import Settings
from facade.upstream import UpstreamClient


def rss_mib() -> float:
    """Current resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def evaluate(
    settings: Settings, period: str, orgs: list[str], repeats: int
) -> list[dict[str, Any]]:
    runs = []
    upstream = UpstreamClient(settings)
    try:
        for index in range(repeats):
            result = await engine(settings, upstream).evaluate(period, orgs=orgs, record=index == 0)
            stats = result.stats
            runs.append(
                {
                    "total": stats.total_seconds,
                    "census": stats.census_seconds,
                    "count": stats.count_seconds,
                    "join": stats.join_seconds,
                    "stays": stats.stays,
                    "counts": stats.search.counts,
                    "pages": stats.search.pages,
                    "resources": stats.search.resources,
                    "upstream": stats.search.upstream_seconds,
                    "searches": stats.search.searches if index == 0 else [],
                    "numerators": {k: v.region.populations for k, v in result.results.items()},
                }
            )
    finally:
        await upstream.aclose()
    return runs


def main(argv: list[str]) -> None:
    base, period, orgs, repeats = argv[0], argv[1], argv[2].split(","), int(argv[3])
    settings = Settings(environment="test", fhir_base_url=base, upstream_timeout_seconds=600.0)
    # The idle footprint of a facade process: the whole app (routers, FHIR models) and the
    # definitions, loaded but not yet evaluating.
    import facade.app  # noqa: F401 - imported for its footprint

    catalog(settings)
    idle = rss_mib()
    runs = asyncio.run(evaluate(settings, period, orgs, repeats))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(
        orjson.dumps({"idle_rss_mib": idle, "peak_rss_mib": peak, "runs": runs}).decode()
    )


if __name__ == "__main__":
    main(sys.argv[1:])
