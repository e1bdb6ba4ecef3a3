"""A platform to break: PostgreSQL (HAPI's and the facade's databases), HAPI on it, facade processes.

Everything runs as real processes on loopback: a throw-away PostgreSQL cluster
(``bench.pgcluster``), the HAPI jar through ``HapiLauncher``, and the facade as
``vte-facade serve`` subprocesses, so each can be killed with SIGKILL and started again.
``QueueWatch`` samples the receipts table while a scenario runs; the timings of a scenario
(resume after HAPI's return, drain) are read from its samples.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.pgcluster import PgCluster
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.native.tables import IntakeRecord
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "vte-faults"  # noqa: S105 - a throw-away cluster on loopback


@dataclass(frozen=True)
class Ports:
    """Loopback ports of one site: PostgreSQL, HAPI, and the facade processes from ``facade``."""

    postgres: int
    hapi: int
    facade: int


class FacadeProcess:
    """One ``vte-facade serve`` process of a site, which a scenario may SIGKILL and start again."""

    def __init__(self, settings: Settings, port: int, log: Path, extra: dict[str, str]) -> None:
        self.settings = settings
        self.port = port
        self.log = log
        self.extra = extra
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        """The process's whole configuration, as an operator would export it (VTE_*)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("VTE_")}
        secrets = {
            name: value.get_secret_value()
            for name in ("master_key", "pseudonym_key", "research_key", "token_signing_key")
            if isinstance(value := getattr(self.settings, name), SecretStr)
        }
        env.update({f"VTE_{name.upper()}": value for name, value in secrets.items()})
        env.update(
            {
                "VTE_ENVIRONMENT": "test",
                "VTE_VAR_DIR": str(self.settings.var_dir),
                "VTE_DATABASE_URL": self.settings.database_url,
                "VTE_FHIR_BASE_URL": self.settings.fhir_base_url,
                "VTE_HOST": "127.0.0.1",
                "VTE_PORT": str(self.port),
                "VTE_NATIVE_RATE_PER_SECOND": "0",
                "VTE_RESEARCH_WORKER_ENABLED": "false",
                "VTE_INDICATOR_REFRESH_TIMES": "[]",
                "VTE_LOG_LEVEL": "WARNING",
                **self.extra,
            }
        )
        return env

    def start(self, timeout: float = 180.0) -> float:
        """Start the process (unless it runs) and wait until it answers /healthz; returns the
        seconds it took."""
        if self.running:
            return 0.0
        started = time.monotonic()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("vte-facade")), "serve"],
                env=self.environment(),
                cwd=self.settings.var_dir,  # no developer's .env is read
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"facade exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"facade did not answer within {timeout:.0f} s; see {self.log}")

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, no lease is given back, no transaction is finished."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: the lifespan finishes its round), else SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Sample:
    """Receipts by status at one moment (monotonic seconds)."""

    at: float
    accepted: int
    stored: int
    failed: int


@dataclass
class QueueWatch:
    """Samples the receipts of ``orgs`` twice a second in a thread (a failed sample is skipped)."""

    database: Database
    orgs: list[str]
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> Sample:
        """The receipts table's counts now."""
        with self.database.session() as session:
            rows = session.execute(
                select(IntakeRecord.status, func.count())
                .where(IntakeRecord.org_code.in_(self.orgs))
                .group_by(IntakeRecord.status)
            )
            found = {status: int(count) for status, count in rows}
        return Sample(
            time.monotonic(),
            found.get("accepted", 0),
            found.get("stored", 0),
            found.get("failed", 0),
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(self.sample())
            except Exception:  # noqa: S112 - the database is restarted on purpose in one scenario
                continue

    def __enter__(self) -> QueueWatch:
        self._thread = threading.Thread(target=self._run, name="queue-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait(self, done: str, timeout: float, *, poll: float = 0.5) -> Sample:
        """Wait until a sample satisfies ``done`` ("drained": nothing accepted; "stored:N": N
        stored, or some stored and nothing accepted); RuntimeError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                now = self.sample()
            except Exception:  # the database may be restarting
                now = None
            if now is not None:
                # kept: a backlog that drains between two background samples still shows
                self.samples.append(now)
            if now is not None and _satisfied(done, now):
                return now
            if time.monotonic() > deadline:
                raise RuntimeError(f"receipts not {done} after {timeout:.0f} s: {now}")
            time.sleep(poll)

    def ordered(self) -> list[Sample]:
        """The samples in time order (the background thread and ``wait`` both add some)."""
        return sorted(self.samples, key=lambda s: s.at)

    def resumed_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first sample whose stored count grew past the one
        before it (None if it never grew)."""
        samples = self.ordered()
        before = [s for s in samples if s.at <= moment]
        if not before:
            return None
        baseline = before[-1].stored
        later = next((s for s in samples if s.at > moment and s.stored > baseline), None)
        return None if later is None else later.at - moment


def _satisfied(done: str, sample: Sample) -> bool:
    if done == "drained":
        return sample.accepted == 0
    if done.startswith("stored:"):  # that many stored, or all received so far
        return sample.stored >= int(done.split(":", 1)[1]) or (
            sample.stored > 0 and sample.accepted == 0
        )
    raise ValueError(f"unknown condition {done!r}")


class Site:
    """The platform of one fault run, under ``root``; ``start`` builds it from nothing."""

    def __init__(self, root: Path, ports: Ports, *, facade_env: dict[str, str] | None = None):
        self.root = root
        self.ports = ports
        self.facade_env = facade_env or {}
        self.postgres = PgCluster(root / "pg", ports.postgres)
        self.settings = self._settings()
        self.hapi = HapiLauncher(self.settings)
        self.database = Database(self.settings.database_url)
        self.facades: list[FacadeProcess] = []

    def _settings(self) -> Settings:
        (self.root / "facade").mkdir(parents=True, exist_ok=True)
        return ensure_secrets(
            Settings(
                environment="test",
                var_dir=self.root / "facade",
                database_url=self.postgres.url("facade", "vte", PASSWORD),
                hapi_port=self.ports.hapi,
                hapi_jdbc_url=self.postgres.jdbc("hapi"),
                hapi_jdbc_username="vte",
                hapi_jdbc_password=SecretStr(PASSWORD),
                hapi_start_timeout_seconds=900.0,
                fhir_base_url=f"http://127.0.0.1:{self.ports.hapi}/fhir",
                native_rate_per_second=0,
                upstream_timeout_seconds=120.0,
            )
        )

    def start(self) -> dict[str, float]:
        """Fresh cluster and databases, HAPI on them with the guide loaded, facade schema migrated."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        self.postgres.start(empty=True)
        self.postgres.create_database("hapi", "vte", PASSWORD)
        self.postgres.create_database("facade", "vte", PASSWORD)
        self.database.upgrade()
        timings["postgres_s"] = time.monotonic() - started
        timings["hapi_start_s"] = self.start_hapi()
        started = time.monotonic()
        asyncio.run(self._load_guide())
        timings["guide_s"] = time.monotonic() - started
        return timings

    async def _load_guide(self) -> None:
        upstream = UpstreamClient(self.settings)
        try:
            await load_ig(upstream, self.settings.profiles_dir / "fsh-generated" / "resources")
        finally:
            await upstream.aclose()

    def facade(self, index: int = 0) -> FacadeProcess:
        """The ``index``-th facade process of the site (made on first use, not started)."""
        while len(self.facades) <= index:
            n = len(self.facades)
            self.facades.append(
                FacadeProcess(
                    self.settings,
                    self.ports.facade + n,
                    self.root / "logs" / f"facade-{n}.log",
                    self.facade_env,
                )
            )
        return self.facades[index]

    # -- faults

    def kill_hapi(self) -> None:
        """SIGKILL to HAPI's process group: no graceful shutdown, transactions cut mid-way."""
        pid = self.hapi.status().pid
        if pid is None:
            raise RuntimeError("HAPI is not running")
        os.killpg(pid, signal.SIGKILL)
        while self.hapi.status().pid is not None:  # reaps the child
            time.sleep(0.1)

    def start_hapi(self) -> float:
        """Start HAPI and wait for /metadata; returns the seconds it took."""
        started = time.monotonic()
        self.hapi.start()
        return time.monotonic() - started

    def restart_postgres(self) -> float:
        """Stop PostgreSQL the hard way (``immediate``: like a crash, recovery at the next start)
        and start it again; returns the seconds it was down."""
        started = time.monotonic()
        self.postgres.stop(mode="immediate")
        self.postgres.start()
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop every process of the site and delete the cluster."""
        for process in self.facades:
            process.stop()
        self.hapi.stop()
        self.database.dispose()
        self.postgres.destroy()
