"""Fixtures of the submissions tests: a database holding gateway batches and an Excel import."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facade.app import create_app
from facade.db import Database
from facade.dictionary.loader import load_dictionary
from facade.excel.assets import load_assets
from facade.excel.importer import Importer
from facade.excel.imports import import_workbook
from facade.mapping.processor import DictionaryProcessor
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.receipts import ReceiptQueue
from facade.native.sealing import APP_SECRETS, RECORD_PAYLOADS, SecretBox
from facade.settings import Settings, ensure_secrets
from facade.synth.generator import RegionSpec, generate

# The Excel tests' helpers fill the real template like a hospital would; reuse them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "excel"))
from excel_helpers import fill, valid_case
from submissions_kit import Filled

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Filled]:
    """Two hospitals; the first sent a gateway batch (one record refused) and an Excel file."""
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("VTE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("VTE_FORWARD_ENABLED", "false")
    monkeypatch.setenv("VTE_NATIVE_RATE_PER_SECOND", "0")
    monkeypatch.setenv("COLUMNS", "80")  # a pipe's width: identifiers must still print whole
    settings = ensure_secrets(Settings())
    database = Database(settings.database_url)
    database.upgrade()
    region = generate(RegionSpec(seed=5, hospitals=2, encounters=40, run=uuid.uuid4().hex[:8]))
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    apps, secrets = {}, {}
    with database.session() as session:
        for hospital in region.hospitals:
            orgs.add_org(session, hospital.org_code, hospital.name, grade="31", fhir_id="x")
            issued = credentials.issue_app(session, box, hospital.org_code, name="VTE")
            apps[hospital.org_code], secrets[hospital.org_code] = issued.app_id, issued.secret
    first = region.org_codes[0]
    with TestClient(create_app(settings, database=database)) as http:
        client = VteXClient(
            "/vte-x/v1/gateway",
            app_id=apps[first],
            org_code=first,
            secret=secrets[first],
            http=http,
        )
        cases = region.records()[first]["case"][:5]
        broken = dict(cases[1], sex="Q")  # refused at intake: 3003 on sex
        reply = client.upload("VTE.CASE.UPLOAD", "B-CASES-1", [cases[0], broken, *cases[2:]])
        assert reply.code == "0" and reply.payload and reply.payload["failCount"] == 1
    queue = ReceiptQueue(database, SecretBox.for_purpose(settings, RECORD_PAYLOADS))
    claimed = queue.claim(limit=2)
    queue.mark_stored(claimed[0].receipt_id, claimed[0].lease_token, result_ref="Encounter/1")
    queue.mark_failed(claimed[1].receipt_id, claimed[1].lease_token, reason="HAPI: rule vte-enc-2")
    dictionary = load_dictionary(REPO / "mappings")
    assets = load_assets(settings, dictionary)
    rows = [valid_case(n, first) for n in range(1, 4)]
    rows[1]["sex"] = "Q"
    saved = import_workbook(
        fill(assets.template(), {"住院病例": rows}),
        importer=Importer(apps[first], first),
        assets=assets,
        settings=settings,
        database=database,
        processor=DictionaryProcessor.from_settings(settings, database),
        source="cli",
    )
    yield Filled(settings, database, region.org_codes, apps, saved.import_id, claimed[1].record_id)
    database.dispose()
