"""Backup archives of the facade database: manifest, checksums verified on restore, no key inside."""

from __future__ import annotations

import tarfile
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy import MetaData, select

from facade.backup import BackupError, create_backup, restore_backup, verify_backup
from facade.backup.manifest import MANIFEST_NAME, key_check_value
from facade.db import Database
from facade.native import credentials, orgs
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.settings import SECRET_FIELDS, Settings, ensure_secrets

ORG = "12320100MB0000001M"


def all_rows(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order (the restore must reproduce them exactly)."""
    meta = MetaData()
    meta.reflect(database.engine)
    with database.engine.connect() as conn:
        return {
            name: sorted(tuple(row) for row in conn.execute(select(table)))
            for name, table in meta.tables.items()
        }


def key_material(settings: Settings) -> list[bytes]:
    """Every secret as the bytes a careless backup would contain: hex (both cases) and raw."""
    values = [getattr(settings, name).get_secret_value() for name in SECRET_FIELDS]
    if settings.platform_sm2_key is not None:
        values.append(settings.platform_sm2_key.get_secret_value())
    found: list[bytes] = []
    for value in values:
        found += [value.lower().encode(), value.upper().encode(), bytes.fromhex(value)]
    return found


@pytest.fixture
def source(settings: Settings, database: Database) -> Settings:
    """A facade database holding an institution and an app whose secret is sealed."""
    current = ensure_secrets(settings)
    with database.session() as session:
        orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="org-1")
        credentials.issue_app(session, SecretBox.for_purpose(current, APP_SECRETS), ORG, name="HIS")
    return current


def elsewhere(settings: Settings, tmp_path: Path, name: str) -> Settings:
    """The same keys, another var dir and database file: a fresh location."""
    var = tmp_path / name
    return settings.model_copy(
        update={"var_dir": var, "database_url": f"sqlite:///{var / 'facade.db'}"}
    )


def test_backup_has_a_manifest_with_checksums_no_keys_and_restores_identically(
    source: Settings, database: Database, tmp_path: Path
) -> None:
    archive, manifest = create_backup(source, tmp_path / "backups", components=("facade",))
    assert archive.name.startswith("vte-backup-") and archive.stat().st_mode & 0o077 == 0
    assert manifest.facade is not None and manifest.facade.kind == "sqlite"
    assert manifest.facade.detail["migrations"]  # the schema revisions it was taken at
    with tarfile.open(archive) as tar:
        assert tar.getnames() == [MANIFEST_NAME, "facade.sqlite"]
        stored = orjson.loads(tar.extractfile(MANIFEST_NAME).read())  # type: ignore[union-attr]
    assert stored["files"][0]["sha256"] == manifest.files[0].sha256
    assert stored["key_check"]["master_key"] == key_check_value(source.secret("master_key"))

    raw = archive.read_bytes()
    for material in key_material(source):
        assert material not in raw

    target = elsewhere(source, tmp_path, "restored")
    restore_backup(target, archive, components=("facade",))
    restored = Database(target.database_url)
    try:
        assert all_rows(restored) == all_rows(database)
        with restored.session() as session:
            app_id = credentials.list_apps(session)[0].app_id
            secret = credentials.load_secret(
                session, SecretBox.for_purpose(target, APP_SECRETS), app_id, 1
            )
        assert secret is not None and len(secret) == 64
    finally:
        restored.dispose()


def test_a_tampered_member_is_refused_before_anything_is_written(
    source: Settings, tmp_path: Path
) -> None:
    archive, _ = create_backup(source, tmp_path / "backups", components=("facade",))
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        member = tar.getmember("facade.sqlite")
    data[member.offset_data + 200] ^= 0x01
    archive.write_bytes(bytes(data))
    target = elsewhere(source, tmp_path, "restored")
    with pytest.raises(BackupError, match=r"facade\.sqlite: size or SHA-256"):
        restore_backup(target, archive)
    assert not Path(target.database_url.removeprefix("sqlite:///")).exists()
    with pytest.raises(BackupError, match=r"facade\.sqlite"):
        verify_backup(archive)


def test_wrong_keys_and_occupied_targets_are_refused(source: Settings, tmp_path: Path) -> None:
    archive, _ = create_backup(source, tmp_path / "backups", components=("facade",))
    other_key = elsewhere(source, tmp_path, "other").model_copy(
        update={"pseudonym_key": SecretStr("ab" * 32)}
    )
    with pytest.raises(BackupError, match="VTE_PSEUDONYM_KEY"):
        restore_backup(other_key, archive)
    # During a rotation the previous master key is the one that matches.
    rotating = elsewhere(source, tmp_path, "rotating").model_copy(
        update={"master_key": SecretStr("cd" * 32), "previous_master_key": source.master_key}
    )
    restore_backup(rotating, archive, components=("facade",))
    with pytest.raises(BackupError, match="exists"):
        restore_backup(rotating, archive, components=("facade",))
    restore_backup(rotating, archive, components=("facade",), replace=True)
