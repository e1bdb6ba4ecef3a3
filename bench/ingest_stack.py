"""The ingest benchmark's stack: PostgreSQL, HAPI on it, facade processes, load sampling.

One throw-away PostgreSQL cluster holds HAPI's database and the facade databases; HAPI runs with
write-time validation on and the trusted-write key (the production settings); facade processes
(``vte-facade serve`` and ``vte-facade forward``) are started as separate OS processes with the
bench's own settings in their environment. The indicator benchmark runs the same stack on its
own ports and state directory (``Stack(state=..., hapi_port=..., facade_port=...)``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.cores import (
    FACADE_CORE,
    HAPI_CORE,
    every_core,
    pin_process,
    pin_tree,
    postmaster,
    unpin_tree,
)
from bench.pgcluster import PgCluster
from bench.settings import HAPI_DB_PASSWORD, HAPI_DB_USER, bench_settings
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.settings import Settings

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-ingest"
# Outside the checkout: the postgres user must reach it. Two runs at once need two directories.
PG_DIR = Path(os.environ.get("VTE_BENCH_PG_DIR", "/tmp/vte-bench-ingest-pg"))  # noqa: S108
PG_PORT = int(os.environ.get("VTE_BENCH_PG_PORT", "55483"))
# The pinned part's second cluster, for the facade's database alone.
FACADE_PG_DIR = Path(os.environ.get("VTE_BENCH_FACADE_PG_DIR", f"{PG_DIR}-facade"))
FACADE_PG_PORT = int(os.environ.get("VTE_BENCH_FACADE_PG_PORT", str(PG_PORT + 1)))
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8183"))
FACADE_PORT = int(os.environ.get("VTE_BENCH_FACADE_PORT", "8184"))
# The facade roles' password (HAPI's role is bench.settings'); a throw-away loopback cluster.
PASSWORD = "ingest-bench"  # noqa: S105
VTE = str(Path(sys.executable).with_name("vte-facade"))


def at_once(work: Callable[[str], None], keys: Iterable[str]) -> None:
    """``work(key)`` for every key, each in a thread of its own, all at the same time; the first
    error is raised once every thread has ended."""
    errors: list[BaseException] = []

    def one(key: str) -> None:
        try:
            work(key)
        except BaseException as exc:  # reported after the others finished
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class LoadMeter:
    """Samples the 1-minute load average every few seconds while a phase runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(5.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadMeter:
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    @property
    def text(self) -> str:
        """``mean (min–max)`` of the samples."""
        mean = sum(self.samples) / len(self.samples)
        return f"{mean:.1f} ({min(self.samples):.1f}–{max(self.samples):.1f})"


@dataclass
class Stack:
    """PostgreSQL + HAPI, and the facade settings every part of the benchmark shares."""

    cluster: PgCluster = field(
        default_factory=lambda: PgCluster(PG_DIR, PG_PORT, options=PG_OPTIONS)
    )
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    launcher: HapiLauncher | None = None
    # Where another benchmark runs the same stack (the defaults are the ingest benchmark's).
    state: Path = STATE
    hapi_port: int = HAPI_PORT
    facade_port: int = FACADE_PORT

    def start(self, hapi_env: dict[str, str], *, empty: bool = True) -> Settings:
        """A fresh cluster (HAPI's database and three facade databases) and HAPI on it; with
        ``empty`` false, the cluster, state and HAPI an earlier run kept (VTE_BENCH_KEEP=1)."""
        if self.cluster.start(empty=empty):
            self.cluster.create_database("hapi", HAPI_DB_USER, HAPI_DB_PASSWORD)
            for name in ("facade1", "facade2", "facade3"):
                self.cluster.create_database(name, "facade", PASSWORD)
        if empty:
            shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True, exist_ok=True)
        settings = self.settings("facade1")
        os.environ.update({"HAPI_REQUEST_LOG": "false", **hapi_env})
        self.launcher = HapiLauncher(settings)
        if self.launcher.jar_is_stale():
            raise SystemExit("the HAPI jar is missing or stale: run `vte-facade hapi build` first")
        self.launcher.start()
        return settings

    def settings(self, database: str, *, port: int | None = None) -> Settings:
        """Facade settings on one of the cluster's facade databases (secrets from the state dir),
        for a facade process listening on ``port`` (the stack's facade port by default)."""
        return bench_settings(
            self.state,
            self.hapi_port,
            self.cluster.jdbc("hapi"),
            environment="development",
            database_url=self.cluster.url(database, "facade", PASSWORD),
            port=self.facade_port if port is None else port,
        )

    def hapi_pid(self) -> int:
        """The pid of the stack's HAPI."""
        pid = self.launcher.status().pid if self.launcher is not None else None
        if pid is None:
            raise SystemExit("HAPI is not running")
        return pid

    def migrate(self, settings: Settings) -> Database:
        """The facade database, migrated."""
        database = Database(settings.database_url)
        database.upgrade()
        return database

    def environment(self, settings: Settings, **extra: str) -> dict[str, str]:
        """The environment of a facade process using ``settings``."""
        env = dict(os.environ)
        env.update(
            {
                "VTE_ENVIRONMENT": "development",
                "VTE_VAR_DIR": str(settings.var_dir),
                "VTE_DATABASE_URL": settings.database_url,
                "VTE_FHIR_BASE_URL": settings.fhir_base_url,
                "VTE_PORT": str(settings.port),
                "VTE_UPSTREAM_TIMEOUT_SECONDS": "600",
                "VTE_LOG_LEVEL": "WARNING",
                "VTE_RESEARCH_WORKER_ENABLED": "false",
                "VTE_INDICATOR_REFRESH_TIMES": "[]",
                **extra,
            }
        )
        return env

    def spawn(
        self, args: list[str], env: dict[str, str], log: str, *, nice: int = 0
    ) -> subprocess.Popen[bytes]:
        """Start a ``vte-facade`` process (output to <state>/<log>), ``nice``-d if asked (nice
        execs it: the process's pid is the facade's)."""
        out = (self.state / log).open("wb")
        command = [VTE, *args] if nice == 0 else ["nice", "-n", str(nice), VTE, *args]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def serve(self, settings: Settings, *, nice: int = 0, **extra: str) -> subprocess.Popen[bytes]:
        """``vte-facade serve`` on ``settings.port``; returns once /healthz answers."""
        log = "serve.log" if settings.port == self.facade_port else f"serve-{settings.port}.log"
        process = self.spawn(["serve"], self.environment(settings, **extra), log, nice=nice)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{settings.public_base_url}/healthz", timeout=2).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"the facade exited; see {self.state / log}")
            time.sleep(0.5)
        raise SystemExit("the facade did not answer /healthz within 120 s")

    def end(self, process: subprocess.Popen[bytes]) -> None:
        """Stop one facade process (SIGTERM, then wait)."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self, *, keep: bool = False) -> None:
        """Stop every facade process; HAPI and PostgreSQL too unless ``keep``."""
        for process in self.processes:
            self.end(process)
        if keep:
            return
        if self.launcher is not None:
            self.launcher.stop()
        self.cluster.stop()


@contextmanager
def pinned_layout(stack: Stack, *, keep: bool = False) -> Iterator[PgCluster]:
    """HAPI and its cluster on HAPI's core; this process (and so every facade process it starts)
    and a new cluster for the facade's database on the facade's core; everyone free again after.
    Yields the facade's cluster, which has one empty database ``facade``."""
    cluster = PgCluster(FACADE_PG_DIR, FACADE_PG_PORT, options=PG_OPTIONS)
    me, hapi, hapi_pg = os.getpid(), stack.hapi_pid(), postmaster(stack.cluster)
    pin_process(me, FACADE_CORE)  # not its children: HAPI is one
    pin_tree(hapi, HAPI_CORE)
    pin_tree(hapi_pg, HAPI_CORE)
    try:
        cluster.start(empty=True)
        cluster.create_database("facade", "facade", PASSWORD)
        pin_tree(postmaster(cluster), FACADE_CORE)
        yield cluster
    finally:
        pin_process(me, every_core())
        unpin_tree(hapi)
        unpin_tree(hapi_pg)
        if not keep:
            cluster.destroy()


# A cluster tuned for loading, like the indicator benchmark's; fsync stays on (commits are real).
PG_OPTIONS = "-c shared_buffers=512MB -c synchronous_commit=off -c max_connections=200"
