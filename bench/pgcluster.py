"""A throw-away PostgreSQL cluster on loopback, run as the postgres user (docker/hapi/README.md's recipe).

Used by benchmarks and by the tests that need a real PostgreSQL (backup drill). Debian's
binaries (``/usr/lib/postgresql/<N>/bin``) refuse to run as root, hence ``su postgres``; the
cluster directory is handed to that user.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path


def pg_bin() -> Path:
    """The newest installed PostgreSQL server binaries."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parts[-2]))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    return versions[-1]


class PgCluster:
    """One cluster in ``directory`` listening on 127.0.0.1:``port`` (password auth for TCP)."""

    def __init__(self, directory: Path, port: int, *, options: str = "") -> None:
        self.directory = directory
        self.port = port
        self.options = options
        self.bin = pg_bin()

    def _as_postgres(self, command: str) -> str:
        result = subprocess.run(
            ["su", "postgres", "-c", command], check=False, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command!r} failed: {result.stderr.strip()}")
        return result.stdout

    @property
    def initialised(self) -> bool:
        """Whether the data directory exists."""
        return (self.directory / "data" / "PG_VERSION").exists()

    @property
    def running(self) -> bool:
        """Whether a server runs on the data directory (``pg_ctl status``)."""
        try:
            self._as_postgres(f"{self.bin}/pg_ctl -D {self.directory}/data status")
        except RuntimeError:
            return False
        return True

    def start(self, *, empty: bool = False) -> bool:
        """Start the cluster (``initdb`` first when new or ``empty``); returns whether it is fresh."""
        fresh = empty or not self.initialised
        if fresh and self.initialised and self.running:
            self.stop()  # its files are about to go: the server must not run on them
        if fresh:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True)
            (self.directory / "pw").write_text("postgres\n")
            for path in (self.directory, self.directory / "pw"):
                shutil.chown(path, "postgres", "postgres")
            self._as_postgres(
                f"{self.bin}/initdb -D {self.directory}/data -U postgres --pwfile={self.directory}/pw "
                "--auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8"
            )
        if not fresh and self.running:
            return False  # kept from an earlier run (VTE_BENCH_KEEP=1)
        server = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} {self.options}"
        self._as_postgres(
            f"{self.bin}/pg_ctl -D {self.directory}/data -o {shlex.quote(server)} "
            f"-l {self.directory}/pg.log -w start"
        )
        return fresh

    def sql(self, *statements: str, database: str = "postgres") -> str:
        """Run statements as the superuser over the local socket."""
        args = " ".join(f"-c {shlex.quote(s)}" for s in statements)
        return self._as_postgres(
            f"psql -h {self.directory} -p {self.port} -U postgres -d {database} -tA {args}"
        )

    def create_database(self, name: str, owner: str, password: str) -> None:
        """A login role (if new) and an empty database it owns (names are the caller's constants)."""
        exists = self.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'").strip()  # noqa: S608
        if not exists:
            self.sql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'")
        self.sql(f"CREATE DATABASE {name} OWNER {owner}")

    def url(self, database: str, user: str, password: str) -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def jdbc(self, database: str) -> str:
        """The JDBC URL of a database of this cluster (for HAPI)."""
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{database}"

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the cluster, if it runs: ``fast`` rolls back and disconnects clients; ``immediate``
        aborts like a crash (recovery from the WAL at the next start)."""
        if self.initialised:
            self._as_postgres(f"{self.bin}/pg_ctl -D {self.directory}/data -m {mode} stop")

    def destroy(self) -> None:
        """Stop it and delete its files."""
        try:
            self.stop()
        except RuntimeError:
            pass  # not running
        shutil.rmtree(self.directory, ignore_errors=True)
