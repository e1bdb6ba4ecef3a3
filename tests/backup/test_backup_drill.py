"""Restore drill: load a small region, back up, destroy, restore elsewhere, and nothing differs.

The region goes through the real pipeline into the session's HAPI (H2). The backup takes the
facade's SQLite file through SQLite's online backup and HAPI's H2 through our module's online
``BACKUP TO``; then the facade database is deleted and both are restored into a fresh var
directory, where a second HAPI starts on the restored H2. Receipts, every resource of the region
(by business identifier, whole content) and every indicator value must be identical.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from drill_kit import snapshot
from live_region import live_settings, push_regions

from facade.backup import create_backup, restore_backup
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.settings import SECRET_FIELDS
from facade.synth.generator import RegionSpec, generate

pytestmark = pytest.mark.integration
# The restored HAPI runs beside the session's, on the next port of this checkout's block.
RESTORED_PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091")) + 1


@pytest.mark.timeout(1800)  # two HAPI start-ups on a busy 2-core machine
def test_restore_drill_reproduces_receipts_resources_and_indicators(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path: Path
) -> None:
    settings = live_settings(fhir_base_url, tmp_path / "site")
    database = Database(settings.database_url)
    database.upgrade()
    region = generate(RegionSpec(seed=404, hospitals=2, encounters=24, run=uuid.uuid4().hex[:10]))
    push_regions(settings, database, [region])
    orgs = region.org_codes
    before = snapshot(settings, database, orgs)
    assert len(before[0]) > 50 and len(before[1]) > 50
    assert before[2]["A1"]["region"]["populations"]["denominator"] > 0

    archive, manifest = create_backup(settings, tmp_path / "backups")
    assert manifest.hapi is not None and manifest.hapi.kind == "h2"
    raw = archive.read_bytes()
    for name in SECRET_FIELDS:
        value = getattr(settings, name).get_secret_value()
        assert value.encode() not in raw and value.upper().encode() not in raw
        assert bytes.fromhex(value) not in raw

    database.dispose()  # destroy the site's facade database
    Path(settings.database_url.removeprefix("sqlite:///")).unlink()

    port = RESTORED_PORT
    fresh = settings.model_copy(
        update={
            "var_dir": tmp_path / "fresh",
            "database_url": f"sqlite:///{tmp_path / 'fresh' / 'facade.db'}",
            "hapi_port": port,
            "fhir_base_url": f"http://127.0.0.1:{port}/fhir",
            # A throw-away server: C1 only starts with about two thirds of the CPU.
            "hapi_java_opts": "-Xmx1g -XX:TieredStopAtLevel=1",
        }
    )
    restore_backup(fresh, archive)
    launcher = HapiLauncher(fresh)
    restored_db = Database(fresh.database_url)
    try:
        launcher.start()
        after = snapshot(fresh, restored_db, orgs)
    finally:
        launcher.stop()
        restored_db.dispose()
    assert after[0] == before[0]
    assert after[1].keys() == before[1].keys()
    assert after[1] == before[1]
    assert after[2] == before[2]
