"""HapiLauncher: builds the HAPI jar when missing or stale, runs it, and stops it by its PID."""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from facade.errors import FacadeError
from facade.settings import Settings

JAR_NAME = "vte-hapi.jar"


class HapiError(FacadeError):
    """The local HAPI server could not be built, started or stopped; the message says why."""


@dataclass(frozen=True)
class HapiStatus:
    """What ``vte-facade hapi status`` reports."""

    state: str  # "running", "unresponsive" (process alive, /metadata silent) or "stopped"
    pid: int | None
    base_url: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output (camelCase, like every ``--json`` document)."""
        return {"state": self.state, "pid": self.pid, "baseUrl": self.base_url}


class HapiLauncher:
    """Manages one HAPI process whose pid, log and H2 files live under ``settings.hapi_state_dir``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.module_dir = settings.hapi_module_dir
        self.jar = self.module_dir / "target" / JAR_NAME
        self.state_dir = settings.hapi_state_dir
        self.pid_file = self.state_dir / "hapi.pid"
        self.log_file = self.state_dir / "hapi.log"
        self.base_url = f"http://127.0.0.1:{settings.hapi_port}/fhir"

    # -- build

    def jar_is_stale(self) -> bool:
        """True when the jar is missing or older than any source file of the module."""
        if not self.jar.exists():
            return True
        sources = [self.module_dir / "pom.xml", *(self.module_dir / "src").rglob("*")]
        newest = max(p.stat().st_mtime for p in sources if p.is_file())
        return newest > self.jar.stat().st_mtime

    def build(self, *, force: bool = False) -> bool:
        """Run Maven when needed; return whether a build ran. Raises HapiError with Maven's output tail."""
        if not force and not self.jar_is_stale():
            return False
        self.state_dir.mkdir(parents=True, exist_ok=True)
        build_log = self.state_dir / "build.log"
        command = [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(self.module_dir / "pom.xml"),
            "package",
            "-DskipTests",
        ]
        with build_log.open("wb") as out:
            result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
        if result.returncode != 0 or not self.jar.exists():
            raise HapiError(
                f"Maven build of the HAPI jar failed (see {build_log}):\n{tail(build_log)}"
            )
        return True

    # -- run

    def status(self) -> HapiStatus:
        """Whether our recorded process is alive and answering."""
        pid = self._recorded_pid()
        if pid is None:
            return HapiStatus("stopped", None, self.base_url)
        return HapiStatus("running" if self._answers() else "unresponsive", pid, self.base_url)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Serialise start/stop of this state directory across processes (concurrent `make` runs)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / "launcher.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def start(self) -> HapiStatus:
        """Build if needed, start the jar, and wait until /fhir/metadata answers.

        Raises HapiError with the log tail when the process exits or does not come up in time.
        """
        with self._exclusive():
            return self._start_locked()

    def _start_locked(self) -> HapiStatus:
        current = self.status()
        if current.state == "running":
            return current
        if current.state == "unresponsive":
            self._stop_locked()
        if self._answers():
            raise HapiError(
                f"another server already answers at {self.base_url}; stop it or change VTE_HAPI_PORT"
            )
        self.build()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        java = shutil.which("java")
        if java is None:
            raise HapiError("java is not on PATH; HAPI needs Java 17 or newer")
        command = [java, *shlex.split(self.settings.hapi_java_opts), "-jar", str(self.jar)]
        # posix_spawn rather than Popen: the server must outlive this process (setsid), and a
        # Popen object dropped while its child runs warns "subprocess is still running".
        log_fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            pid = os.posix_spawn(
                java,
                command,
                self._environment(),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, log_fd, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                    (os.POSIX_SPAWN_CLOSE, 0),
                ],
                setsid=True,
            )
        finally:
            os.close(log_fd)
        self.pid_file.write_text(str(pid))
        deadline = time.monotonic() + self.settings.hapi_start_timeout_seconds
        while time.monotonic() < deadline:
            exit_code = _exit_code(pid)
            if exit_code is not None:
                self.pid_file.unlink(missing_ok=True)
                raise HapiError(
                    f"HAPI exited with code {exit_code} during start-up; log tail:\n{tail(self.log_file)}"
                )
            if self._answers():
                return HapiStatus("running", pid, self.base_url)
            time.sleep(1.0)
        self._stop_locked()
        raise HapiError(
            f"HAPI did not answer {self.base_url}/metadata within "
            f"{self.settings.hapi_start_timeout_seconds:.0f} s; log tail:\n{tail(self.log_file)}"
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the recorded process (TERM, then KILL after ``timeout``); return whether one was running."""
        with self._exclusive():
            return self._stop_locked(timeout)

    def _stop_locked(self, timeout: float = 60.0) -> bool:
        pid = self._recorded_pid()
        if pid is None:
            return False
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- internals

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["HAPI_PORT"] = str(self.settings.hapi_port)
        env["HAPI_DATA_DIR"] = str(self.state_dir / "h2")
        if self.settings.hapi_trusted_write_key is not None:
            env["HAPI_TRUSTED_WRITE_KEY"] = self.settings.hapi_trusted_write_key.get_secret_value()
        if self.settings.hapi_jdbc_url:
            env["SPRING_DATASOURCE_URL"] = self.settings.hapi_jdbc_url
            env["SPRING_DATASOURCE_USERNAME"] = self.settings.hapi_jdbc_username
            if self.settings.hapi_jdbc_password is not None:
                env["SPRING_DATASOURCE_PASSWORD"] = (
                    self.settings.hapi_jdbc_password.get_secret_value()
                )
        return env

    def _recorded_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def _answers(self) -> bool:
        try:
            response = httpx.get(f"{self.base_url}/metadata", timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def _exit_code(pid: int) -> int | None:
    """The exit status of our child ``pid`` if it has exited (reaping it), else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (started by another process): alive or gone
        return None if _alive(pid) else -1
    return os.waitstatus_to_exitcode(status) if done else None


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file (empty if it does not exist)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
