"""The backup manifest: what is in an archive, from where and when, with sizes and SHA-256 checksums.

Keys are never in an archive. The manifest carries only a *key check value* per key (the first
8 bytes of HMAC-SM3(key, fixed label)): enough to tell at restore time whether the keys at hand
are the ones the data was sealed and pseudonymised with, useless for recovering a key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import hashes, hmac
from pydantic import BaseModel, ConfigDict, Field

from facade.settings import SECRET_FIELDS, Settings

FORMAT: Literal["vte-facade-backup/1"] = "vte-facade-backup/1"
MANIFEST_NAME = "manifest.json"
_KCV_LABEL = b"vte-facade key check value v1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackupFile(_Strict):
    """One member of the archive."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DatabaseEntry(_Strict):
    """A database in the archive: which kind, which member holds it, the tool that made it."""

    kind: Literal["sqlite", "postgresql", "h2"]
    file: str
    tool: str  # e.g. "sqlite 3.40.1", "pg_dump (PostgreSQL) 15.18", "H2 2.3.232 (2024-08-11)"
    detail: dict[str, str] = Field(default_factory=dict)  # schema revisions, server version ...


class Manifest(_Strict):
    """``manifest.json`` of a backup archive."""

    format: Literal["vte-facade-backup/1"] = FORMAT
    created_at: str
    facade_version: str
    facade: DatabaseEntry | None
    hapi: DatabaseEntry | None
    files: list[BackupFile]
    key_check: dict[str, str]
    note: str = (
        "No key is in this archive. Restore needs the same VTE_MASTER_KEY, VTE_PSEUDONYM_KEY, "
        "VTE_RESEARCH_KEY and VTE_TOKEN_SIGNING_KEY, kept apart from backups (README, 'Backup')."
    )


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def key_check_value(key: bytes) -> str:
    """16 hex digits that identify a key without revealing it."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(_KCV_LABEL)
    return mac.finalize()[:8].hex()


def key_checks(settings: Settings) -> dict[str, str]:
    """The check value of every configured secret key."""
    return {
        name: key_check_value(settings.secret(name))
        for name in SECRET_FIELDS
        if getattr(settings, name) is not None
    }


def mismatched_keys(manifest: Manifest, settings: Settings) -> list[str]:
    """Keys whose configured value is not the one the backup was made with.

    During a master-key rotation the previous key may be the one that matches.
    """
    current = key_checks(settings)
    if settings.previous_master_key is not None:
        previous = key_check_value(settings.secret("previous_master_key"))
        if manifest.key_check.get("master_key") == previous:
            current["master_key"] = previous
    return sorted(
        f"VTE_{name.upper()}"
        for name, value in manifest.key_check.items()
        if current.get(name) != value
    )
