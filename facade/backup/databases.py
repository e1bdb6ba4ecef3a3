"""Each database kind's own backup and restore: SQLite's online backup API, pg_dump/pg_restore, H2's BACKUP TO.

The facade database is SQLite (a file) or PostgreSQL (``VTE_DATABASE_URL``); HAPI's is the
embedded H2 of the local jar or PostgreSQL (``VTE_HAPI_JDBC_URL``). Every dump function writes
one file and returns a ``DatabaseEntry`` describing it; every restore function refuses a target
that already holds data unless ``replace`` is given.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from facade.backup.manifest import DatabaseEntry
from facade.errors import FacadeError
from facade.settings import Settings

H2_FILE = "hapi.mv.db"
_ZIP_MEMBER = re.compile(r"^[A-Za-z0-9._-]+\.db$")


class BackupError(FacadeError):
    """A backup or restore step failed or was refused; the message says which and why."""


# -- PostgreSQL ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """Where a PostgreSQL database is, as libpq environment variables (the password never in argv)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def environment(self) -> dict[str, str]:
        """``os.environ`` plus PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for pg_dump/pg_restore."""
        return {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.database,
        }

    def sqlalchemy_url(self) -> URL:
        """The same database for SQLAlchemy (psycopg), to look at it before restoring."""
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.database,
        )


def pg_from_sqlalchemy(url: str) -> PgTarget:
    """``postgresql+psycopg://user:pw@host:port/db`` → PgTarget."""
    parsed = make_url(url)
    return PgTarget(
        parsed.host or "localhost",
        parsed.port or 5432,
        parsed.username or "",
        parsed.password or "",
        parsed.database or "",
    )


def pg_from_jdbc(url: str, username: str, password: str) -> PgTarget:
    """``jdbc:postgresql://host:port/db?user=..`` (HAPI's form) → PgTarget; settings' user wins."""
    parts = urlsplit(url.removeprefix("jdbc:"))
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return PgTarget(
        parts.hostname or "localhost",
        parts.port or 5432,
        username or query.get("user", ""),
        password or query.get("password", ""),
        parts.path.lstrip("/"),
    )


def pg_tool(name: str) -> str:
    """The newest pg_dump/pg_restore on this machine (PATH, else Debian's /usr/lib/postgresql/N/bin)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3])
    )
    found = str(versions[-1]) if versions else shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def pg_dump(target: PgTarget, out: Path, kind_detail: dict[str, str]) -> DatabaseEntry:
    """``pg_dump --format=custom`` (compressed, restorable table by table) of one database."""
    tool = pg_tool("pg_dump")
    version = _run([tool, "--version"], dict(os.environ), "pg_dump --version").strip()
    _run(
        [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"],
        target.environment(),
        f"pg_dump of {target.database}",
    )
    return DatabaseEntry(kind="postgresql", file=out.name, tool=version, detail=kind_detail)


def _pg_tables(target: PgTarget) -> list[str]:
    engine = create_engine(target.sqlalchemy_url())
    try:
        with engine.connect() as conn:
            return list(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def pg_restore(target: PgTarget, dump: Path, *, replace: bool) -> None:
    """Restore into an existing database; it must be empty unless ``replace`` (then --clean)."""
    tables = _pg_tables(target)
    if tables and not replace:
        raise BackupError(
            f"database {target.database} on {target.host}:{target.port} already holds "
            f"{len(tables)} tables; restore into an empty database (or pass --replace)"
        )
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--clean", "--if-exists"] if tables else ["--single-transaction"]
    _run([*command, f"--dbname={target.database}", str(dump)], target.environment(), "pg_restore")


# -- SQLite (the facade database by default) ---------------------------------------------------


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL."""
    if not url.startswith("sqlite:///"):
        raise BackupError(f"not a SQLite file URL: {make_url(url).render_as_string()}")
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """SQLite's online backup API: a consistent copy while others write (page by page)."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def sqlite_dump(url: str, out: Path, detail: dict[str, str]) -> DatabaseEntry:
    """A consistent copy of the facade's SQLite file, taken while it is in use."""
    _sqlite_copy(sqlite_path(url), out)
    return DatabaseEntry(
        kind="sqlite", file=out.name, tool=f"sqlite {sqlite3.sqlite_version}", detail=detail
    )


def sqlite_restore(url: str, copy: Path, *, replace: bool) -> None:
    """Write the backed-up database to the URL's file (which must not exist unless ``replace``)."""
    path = sqlite_path(url)
    if path.exists() and not replace:
        raise BackupError(f"{path} exists; restore to a new location (or pass --replace)")
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    _sqlite_copy(copy, path)


# -- H2 (HAPI's embedded database) --------------------------------------------------------------


def hapi_origin(settings: Settings) -> str:
    """HAPI's server root (``http://host:port``) from ``VTE_FHIR_BASE_URL``."""
    parts = urlsplit(settings.fhir_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def h2_dump(settings: Settings, out: Path, detail: dict[str, str]) -> DatabaseEntry:
    """Ask our HAPI module for an online ``BACKUP TO`` zip (docker/hapi H2BackupController)."""
    url = f"{hapi_origin(settings)}/admin/h2-backup"
    try:
        with httpx.stream("POST", url, timeout=settings.upstream_timeout_seconds) as response:
            if response.status_code != 200:
                response.read()
                raise BackupError(
                    f"HAPI refused the online H2 backup ({response.status_code}): {response.text.strip()}"
                )
            version = response.headers.get("X-H2-Version", "H2 (version not reported)")
            with out.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 20):
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        raise BackupError(f"HAPI did not answer {url}: {type(exc).__name__}") from exc
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    if H2_FILE not in names:
        raise BackupError(f"the H2 backup holds {names}, not {H2_FILE}")
    return DatabaseEntry(kind="h2", file=out.name, tool=f"H2 {version}", detail=detail)


def h2_restore(data_dir: Path, copy: Path, *, replace: bool) -> None:
    """Unzip the H2 files into HAPI's data directory; HAPI must be stopped (the file is locked)."""
    existing = data_dir / H2_FILE
    if existing.exists() and not replace:
        raise BackupError(f"{existing} exists; restore to a new HAPI_DATA_DIR (or pass --replace)")
    data_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(copy) as archive:
        for member in archive.infolist():
            if not _ZIP_MEMBER.fullmatch(member.filename):
                raise BackupError(f"unexpected member {member.filename!r} in the H2 backup")
            with archive.open(member) as source, (data_dir / member.filename).open("wb") as sink:
                shutil.copyfileobj(source, sink)
