"""Pinning benchmark processes to cores, and counting the CPU time each one used.

The read and ingest benchmarks measure a deployment where HAPI and the facade each have their own
machine by pinning HAPI and its database to one core and the facade, its database and the load
client to the other (``taskset``). CPU time comes from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.pgcluster import PgCluster

HAPI_CORE, FACADE_CORE = "0", "1"


def taskset(core: str | None) -> list[str]:
    """The command prefix that starts a program on ``core`` (nothing when ``core`` is None)."""
    return ["taskset", "-c", core] if core is not None else []


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            found.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return found


def pin_process(pid: int, core: str) -> None:
    """Pin every thread of one process (not its children) to ``core``."""
    subprocess.run(["taskset", "-a", "-p", "-c", core, str(pid)], capture_output=True, check=True)


def pin_tree(pid: int, core: str) -> None:
    """Pin a process, its threads and its children (PostgreSQL backends, Java threads) to a core."""
    children = _children()
    stack = [pid]
    while stack:
        current = stack.pop()
        # A backend may end between the listing and here: that is not a failure.
        subprocess.run(["taskset", "-a", "-p", "-c", core, str(current)], capture_output=True)
        stack.extend(children.get(current, []))


def every_core() -> str:
    """The ``taskset`` list of every core of the machine."""
    return f"0-{(os.cpu_count() or 2) - 1}"


def unpin_tree(pid: int) -> None:
    """Let a process tree run on every core again."""
    pin_tree(pid, every_core())


def postmaster(cluster: PgCluster) -> int:
    """The pid of a running cluster's postmaster."""
    return int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children, live or ended (PostgreSQL: the postmaster's
    backends; an ended backend's time is in the postmaster's cutime and cstime)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid:
                total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
            elif int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def own_cpu_seconds() -> tuple[float, float]:
    """(this process, its children that ended and were waited for): user + system seconds."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


class CpuMeter:
    """The CPU seconds each named counter gained while a phase ran (``with CpuMeter(...)``)."""

    def __init__(self, counters: dict[str, Callable[[], float]]) -> None:
        self.counters = counters
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self.before = {name: read() for name, read in self.counters.items()}
        return self

    def __exit__(self, *_: object) -> None:
        self.used = self.so_far()

    def so_far(self) -> dict[str, float]:
        """The CPU seconds each counter gained since the phase began."""
        return {name: round(read() - self.before[name], 1) for name, read in self.counters.items()}
