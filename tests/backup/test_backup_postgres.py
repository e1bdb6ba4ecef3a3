"""The PostgreSQL path of backup/restore: pg_dump of a facade database, pg_restore into an empty one.

A throw-away cluster (Debian's PostgreSQL binaries, run as the postgres user) under var/; the
HAPI-on-PostgreSQL drill is longer and lives in ``python -m bench backup``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_kit import PASSWORD, USER, throwaway_cluster
from test_backup_archive import ORG, all_rows

from bench.pgcluster import PgCluster
from facade.backup import BackupError, create_backup, restore_backup
from facade.db import Database
from facade.mapping.values import parse_offset
from facade.native import credentials, orgs
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.periods import close_period
from facade.settings import Settings, ensure_secrets


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    with throwaway_cluster(47000, "facade_site", "facade_fresh") as pg:
        yield pg


def test_pg_dump_and_pg_restore_reproduce_every_row(
    cluster: PgCluster, settings: Settings, tmp_path: Path
) -> None:
    site = ensure_secrets(settings).model_copy(
        update={"database_url": cluster.url("facade_site", USER, PASSWORD)}
    )
    database = Database(site.database_url)
    database.upgrade()
    with database.session() as session:
        orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="org-1")
        credentials.issue_app(session, SecretBox.for_purpose(site, APP_SECRETS), ORG, name="HIS")
        close_period(session, "2026-Q1", parse_offset("+08:00"), by="qc")

    archive, manifest = create_backup(site, tmp_path / "backups", components=("facade",))
    assert manifest.facade is not None and manifest.facade.kind == "postgresql"
    assert manifest.facade.tool.startswith("pg_dump (PostgreSQL) ")
    for name in ("master_key", "pseudonym_key"):
        assert getattr(site, name).get_secret_value().encode() not in archive.read_bytes()

    with pytest.raises(BackupError, match="already holds"):
        restore_backup(site, archive, components=("facade",))
    fresh = site.model_copy(update={"database_url": cluster.url("facade_fresh", USER, PASSWORD)})
    restore_backup(fresh, archive, components=("facade",))
    restored = Database(fresh.database_url)
    try:
        assert all_rows(restored) == all_rows(database)
        assert restored.pending_migrations() == set()
    finally:
        restored.dispose()
        database.dispose()
