"""Restore drill on PostgreSQL (both databases): ``python -m bench backup``.

Starts a throw-away PostgreSQL cluster and HAPI on it, loads a synthetic region through the real
pipeline (gateway → forwarder → HAPI), backs up (pg_dump of the facade database, then of HAPI's),
restores both into fresh databases of the same cluster, starts a second HAPI on the restored
database and compares receipts, every resource of the region (by business identifier, whole
content) and every indicator value. Prints sizes and durations; exits non-zero on any difference.

Environment: VTE_BENCH_BACKUP_ENCOUNTERS (default 300 stays), VTE_BENCH_HAPI_PORT (8097; the
restored HAPI takes the next port). Results: printed and written to var/bench-backup/results.json.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from bench.pgcluster import PgCluster
from facade.backup import create_backup, restore_backup
from facade.db import Database
from facade.hapi import HapiLauncher
from facade.ig.loader import load_ig
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.upstream import UpstreamClient
from tests.backup.drill_kit import snapshot
from tests.live_region import live_settings, push_regions

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-backup"
PG_PORT = 55440
HAPI_PORT = int(os.environ.get("VTE_BENCH_HAPI_PORT", "8097"))
PASSWORD = "bench-backup"  # noqa: S105 - a throw-away cluster on loopback


def _site(cluster: PgCluster, name: str, port: int, keys: Settings | None = None) -> Settings:
    """A site's settings; ``keys`` gives the keys of another site (a restore needs the same)."""
    base = keys or live_settings(f"http://127.0.0.1:{port}/fhir", STATE / name)
    return base.model_copy(
        update={
            "var_dir": STATE / name,
            "fhir_base_url": f"http://127.0.0.1:{port}/fhir",
            "database_url": cluster.url(f"facade_{name}", "vte", PASSWORD),
            "hapi_port": port,
            "hapi_jdbc_url": cluster.jdbc(f"hapi_{name}"),
            "hapi_jdbc_username": "vte",
            "hapi_jdbc_password": SecretStr(PASSWORD),
            "hapi_start_timeout_seconds": 900.0,
        }
    )


def _timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    encounters = int(os.environ.get("VTE_BENCH_BACKUP_ENCOUNTERS", "300"))
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    cluster = PgCluster(STATE / "pg", PG_PORT)
    cluster.start(empty=True)
    for name in ("site", "fresh"):
        cluster.create_database(f"facade_{name}", "vte", PASSWORD)
        cluster.create_database(f"hapi_{name}", "vte", PASSWORD)
    site = _site(cluster, "site", HAPI_PORT)
    fresh = _site(cluster, "fresh", HAPI_PORT + 1, keys=site)
    figures: dict[str, Any] = {"encounters": encounters, "load_average": os.getloadavg()}
    launchers = [HapiLauncher(site), HapiLauncher(fresh)]
    try:
        _, figures["hapi_start_s"] = _timed(launchers[0].start)

        async def guide() -> None:
            client = UpstreamClient(site)
            try:
                await load_ig(client, REPO / "profiles" / "fsh-generated" / "resources")
            finally:
                await client.aclose()

        asyncio.run(guide())
        database = Database(site.database_url)
        database.upgrade()
        region = generate(
            RegionSpec(seed=505, hospitals=3, encounters=encounters, run=uuid.uuid4().hex[:10])
        )
        _, figures["load_s"] = _timed(lambda: push_regions(site, database, [region]))
        before = snapshot(site, database, region.org_codes)
        # On PostgreSQL the H2 endpoint refuses: pg_dump is the way.
        refused = httpx.post(f"http://127.0.0.1:{HAPI_PORT}/admin/h2-backup", timeout=60)
        figures["h2_endpoint_on_postgres"] = refused.status_code
        (archive, manifest), figures["backup_s"] = _timed(
            lambda: create_backup(site, STATE / "backups")
        )
        figures["archive_bytes"] = archive.stat().st_size
        figures["members"] = {f.name: f.bytes for f in manifest.files}
        database.dispose()
        _, figures["restore_s"] = _timed(lambda: restore_backup(fresh, archive))
        _, figures["restored_hapi_start_s"] = _timed(launchers[1].start)
        restored = Database(fresh.database_url)
        after = snapshot(fresh, restored, region.org_codes)
        restored.dispose()
    finally:
        for launcher in launchers:
            launcher.stop()
        cluster.destroy()
    figures["receipts"] = len(before[0])
    figures["resources"] = len(before[1])
    figures["indicators"] = len(before[2])
    figures["identical"] = {
        "receipts": after[0] == before[0],
        "resources": after[1] == before[1],
        "indicators": after[2] == before[2],
    }
    (STATE / "results.json").write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if not all(figures["identical"].values()) or figures["h2_endpoint_on_postgres"] != 409:
        sys.exit(1)
