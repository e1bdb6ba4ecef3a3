"""HAPI start-up time and resident memory on this machine, fresh and existing H2 database."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import httpx

from facade.hapi import HapiLauncher
from facade.settings import Settings

REPO = Path(__file__).resolve().parent.parent
RUNS = 3


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _one_start(launcher: HapiLauncher) -> tuple[float, float, float]:
    """Seconds to first /metadata 200, RSS right after, RSS after a small write/search workload."""
    started = time.perf_counter()
    status = launcher.start()
    elapsed = time.perf_counter() - started
    assert status.pid is not None
    rss_start = _rss_mib(status.pid)
    with httpx.Client(base_url=status.base_url, timeout=60) as client:
        for i in range(200):
            client.post(
                "/Organization", json={"resourceType": "Organization", "name": f"bench {i}"}
            )
        client.get("/Organization", params={"_summary": "count"})
    rss_work = _rss_mib(status.pid)
    launcher.stop()
    return elapsed, rss_start, rss_work


def main() -> None:
    settings = Settings(environment="test", var_dir=REPO / "var" / "bench", hapi_port=8097)
    launcher = HapiLauncher(settings)
    launcher.stop()
    launcher.build()
    fresh, existing = [], []
    for _ in range(RUNS):
        shutil.rmtree(launcher.state_dir / "h2", ignore_errors=True)
        fresh.append(_one_start(launcher))
        existing.append(_one_start(launcher))
    print(
        f"HAPI start-up on this machine ({RUNS} runs each, median; java opts {settings.hapi_java_opts!r})"
    )
    for label, runs in (("fresh H2 database", fresh), ("existing H2 database", existing)):
        seconds = statistics.median(r[0] for r in runs)
        rss_start = statistics.median(r[1] for r in runs)
        rss_work = statistics.median(r[2] for r in runs)
        print(
            f"  {label:22s} start {seconds:6.1f} s   RSS after start {rss_start:6.0f} MiB   "
            f"after 200 writes {rss_work:6.0f} MiB"
        )
