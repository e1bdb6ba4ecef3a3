"""``vte-facade backup`` and ``restore``: one tar archive = manifest + one dump per database.

Order matters. The facade database is copied *before* HAPI's: a record the forwarder stores in
HAPI after the facade copy was taken is still "accepted" (its sealed payload kept) in the restored
facade, so the forwarder sends it again and HAPI's idempotent update absorbs it. The other order
could restore receipts saying "stored" for resources the restored HAPI never got.

Restore verifies every member's size and SHA-256 against the manifest, and the configured keys
against the manifest's key check values, before it writes anything; then it restores each
database into the location the current settings name (which must be empty, unless ``replace``),
and brings the facade schema up to date.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import orjson

from facade import __version__
from facade.backup import databases
from facade.backup.databases import BackupError
from facade.backup.manifest import (
    MANIFEST_NAME,
    BackupFile,
    DatabaseEntry,
    Manifest,
    key_checks,
    mismatched_keys,
    sha256_file,
)
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.settings import Settings

Component = Literal["facade", "hapi"]
ALL: tuple[Component, ...] = ("facade", "hapi")

__all__ = ["BackupError", "create_backup", "restore_backup", "verify_backup"]


def _facade_dump(settings: Settings, work: Path) -> DatabaseEntry:
    database = Database(settings.database_url)
    try:
        revisions = ",".join(sorted(database.current_revisions()))
    finally:
        database.dispose()
    detail = {"migrations": revisions}
    if settings.database_url.startswith("sqlite:///"):
        return databases.sqlite_dump(settings.database_url, work / "facade.sqlite", detail)
    target = databases.pg_from_sqlalchemy(settings.database_url)
    return databases.pg_dump(target, work / "facade.pgdump", detail)


def _hapi_software(settings: Settings) -> str:
    try:
        response = httpx.get(f"{settings.fhir_base_url}/metadata", timeout=30)
        software = response.json().get("software", {})
        return f"{software.get('name', '?')} {software.get('version', '?')}"
    except (httpx.HTTPError, ValueError):
        return "unknown (HAPI did not answer /metadata)"


def _hapi_dump(settings: Settings, work: Path) -> DatabaseEntry:
    detail = {"server": _hapi_software(settings)}
    if settings.hapi_jdbc_url.startswith("jdbc:postgresql:"):
        target = _hapi_pg(settings)
        return databases.pg_dump(target, work / "hapi.pgdump", detail)
    if settings.hapi_jdbc_url:
        raise BackupError("only H2 and PostgreSQL HAPI databases can be backed up")
    return databases.h2_dump(settings, work / "hapi-h2.zip", detail)


def _hapi_pg(settings: Settings) -> databases.PgTarget:
    password = settings.hapi_jdbc_password
    return databases.pg_from_jdbc(
        settings.hapi_jdbc_url,
        settings.hapi_jdbc_username,
        password.get_secret_value() if password else "",
    )


def create_backup(
    settings: Settings, destination: Path, *, components: tuple[Component, ...] = ALL
) -> tuple[Path, Manifest]:
    """Write ``vte-backup-<UTC time>.tar`` into ``destination``; returns its path and manifest."""
    destination.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    name = f"vte-backup-{stamp:%Y%m%dT%H%M%SZ}.tar"
    with tempfile.TemporaryDirectory(dir=destination, prefix=".backup-") as tmp:
        work = Path(tmp)
        facade = _facade_dump(settings, work) if "facade" in components else None
        hapi = _hapi_dump(settings, work) if "hapi" in components else None
        entries = [entry for entry in (facade, hapi) if entry is not None]
        files = [
            BackupFile(
                name=entry.file,
                bytes=(work / entry.file).stat().st_size,
                sha256=sha256_file(work / entry.file),
            )
            for entry in entries
        ]
        manifest = Manifest(
            created_at=stamp.isoformat(),
            facade_version=__version__,
            facade=facade,
            hapi=hapi,
            files=files,
            key_check=key_checks(settings),
        )
        (work / MANIFEST_NAME).write_bytes(
            orjson.dumps(manifest.model_dump(), option=orjson.OPT_INDENT_2)
        )
        partial = work / name
        with tarfile.open(partial, "w") as tar:
            for member in (MANIFEST_NAME, *(f.name for f in files)):
                tar.add(work / member, arcname=member)
        partial.chmod(0o600)
        final = destination / name
        partial.replace(final)  # appears whole or not at all
    return final, manifest


def verify_backup(archive: Path, into: Path | None = None) -> Manifest:
    """Check the archive against its manifest (members, sizes, SHA-256); extract into ``into``.

    BackupError naming the member at fault; nothing is extracted outside ``into``.
    """
    with tempfile.TemporaryDirectory(prefix=".verify-") as scratch:
        target = into or Path(scratch)
        try:
            with tarfile.open(archive, "r:") as tar:
                names = tar.getnames()
                if MANIFEST_NAME not in names:
                    raise BackupError(f"{archive.name} has no {MANIFEST_NAME}")
                raw = tar.extractfile(MANIFEST_NAME)
                manifest = Manifest.model_validate(orjson.loads(raw.read() if raw else b""))
                expected = {MANIFEST_NAME, *(f.name for f in manifest.files)}
                if set(names) != expected or len(names) != len(expected):
                    raise BackupError(
                        f"{archive.name} members {sorted(names)} differ from the manifest's"
                    )
                for file in manifest.files:
                    # Names are plain file names (the manifest's pattern); copying the bytes of a
                    # regular member ourselves keeps links and devices out on every Python 3.11
                    # (extract's ``filter`` needs 3.11.4; Debian 12 ships 3.11.2).
                    member = tar.getmember(file.name)
                    source = tar.extractfile(member) if member.isfile() else None
                    if source is None:
                        raise BackupError(f"{file.name}: not a regular file in the archive")
                    path = target / file.name
                    with source, path.open("wb") as out:
                        shutil.copyfileobj(source, out)
                    if path.stat().st_size != file.bytes or sha256_file(path) != file.sha256:
                        raise BackupError(f"{file.name}: size or SHA-256 differs from the manifest")
        except (tarfile.TarError, OSError, ValueError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"{archive.name} is not a readable backup: {exc}") from exc
        return manifest


def restore_backup(
    settings: Settings,
    archive: Path,
    *,
    components: tuple[Component, ...] = ALL,
    replace: bool = False,
    ignore_key_check: bool = False,
) -> Manifest:
    """Restore the archive's databases into the locations ``settings`` names."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.var_dir, prefix=".restore-") as tmp:
        work = Path(tmp)
        manifest = verify_backup(archive, work)
        wrong = mismatched_keys(manifest, settings)
        if wrong and not ignore_key_check:
            raise BackupError(
                "the configured keys are not the ones this backup was made with: "
                f"{', '.join(wrong)} (sealed credentials would not open, pseudonyms would not link)"
            )
        if "hapi" in components and manifest.hapi is not None:
            _restore_hapi(settings, manifest.hapi, work, replace=replace)
        if "facade" in components and manifest.facade is not None:
            _restore_facade(settings, manifest.facade, work, replace=replace)
    return manifest


def _restore_facade(settings: Settings, entry: DatabaseEntry, work: Path, *, replace: bool) -> None:
    copy = work / entry.file
    if entry.kind == "sqlite":
        databases.sqlite_restore(settings.database_url, copy, replace=replace)
    elif settings.database_url.startswith("postgresql"):
        databases.pg_restore(
            databases.pg_from_sqlalchemy(settings.database_url), copy, replace=replace
        )
    else:
        raise BackupError("a PostgreSQL facade backup restores into PostgreSQL (VTE_DATABASE_URL)")
    database = Database(settings.database_url)
    try:
        database.upgrade()  # a backup of an older release gets this release's migrations
    finally:
        database.dispose()


def _restore_hapi(settings: Settings, entry: DatabaseEntry, work: Path, *, replace: bool) -> None:
    copy = work / entry.file
    if entry.kind == "postgresql":
        if not settings.hapi_jdbc_url.startswith("jdbc:postgresql:"):
            raise BackupError(
                "a PostgreSQL HAPI backup restores into VTE_HAPI_JDBC_URL (PostgreSQL)"
            )
        databases.pg_restore(_hapi_pg(settings), copy, replace=replace)
        return
    if settings.hapi_jdbc_url:
        raise BackupError(
            "an H2 HAPI backup restores into the local jar's H2 (unset VTE_HAPI_JDBC_URL)"
        )
    launcher = HapiLauncher(settings)
    if launcher.status().state != "stopped":
        raise BackupError(
            "stop HAPI first (`vte-facade hapi stop`): its H2 file is locked while it runs"
        )
    databases.h2_restore(launcher.state_dir / "h2", copy, replace=replace)
