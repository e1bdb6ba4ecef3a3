"""``vte-facade excel template`` and ``vte-facade import-excel FILE --app APPID``."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from excel_helpers import Registered, fill, register, stored_counts, valid_case
from openpyxl import load_workbook
from typer.testing import CliRunner

from facade.audit.tables import AuditRecord
from facade.cli.main import app
from facade.db import Database
from facade.settings import Settings, ensure_secrets

runner = CliRunner()
CASE = "住院病例"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Database]:
    """Environment the CLI reads its settings from, and a migrated database (the real processor runs)."""
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("VTE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    current = ensure_secrets(Settings())
    database = Database(current.database_url)
    database.upgrade()
    return current, database


def test_template_command_writes_the_versioned_template(
    tmp_path: Path, cli_env: tuple[Settings, Database]
) -> None:
    out = tmp_path / "t.xlsx"
    result = runner.invoke(app, ["excel", "template", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["file"] == str(out)
    book = load_workbook(io.BytesIO(out.read_bytes()))
    assert book["_vte_template"]["B1"].value == report["templateVersion"]


def test_import_excel_reports_rows_and_writes_the_error_workbook(
    tmp_path: Path, cli_env: tuple[Settings, Database], template: bytes
) -> None:
    current, database = cli_env
    registered: Registered = register(current, database)
    cases = [valid_case(n, registered.org_code) for n in range(1, 21)]
    cases[3]["sex"] = "Q"
    source = tmp_path / "医院上报.xlsx"
    source.write_bytes(fill(template, {CASE: cases}))
    result = runner.invoke(app, ["import-excel", str(source), "--app", registered.app_id, "--json"])
    assert result.exit_code == 2, result.output  # some rows rejected
    summary = orjson.loads(result.stdout)
    assert (summary["successCount"], summary["failCount"]) == (19, 1)
    assert summary["errors"][0]["row"] == 6 and summary["errors"][0]["code"] == "3003"
    errors_file = Path(summary["errorWorkbookFile"])
    assert errors_file.exists() and errors_file.parent == tmp_path
    assert stored_counts(database)[1] == 19
    with database.session() as session:
        audited = (
            session.query(AuditRecord).filter(AuditRecord.client_id == registered.app_id).count()
        )
    assert audited == 1
    assert "storage: 0 stored in the FHIR server, 19 waiting for the forwarder" in (
        runner.invoke(app, ["import-excel", str(source), "--app", registered.app_id]).stdout
    )
    again = runner.invoke(app, ["import-excel", str(source), "--app", registered.app_id])
    assert again.exit_code == 2
    assert "already received" in again.stdout and "nothing was stored again" in again.stdout
    assert "PARTIAL" in again.stdout
    assert stored_counts(database)[1] == 19


def test_import_excel_refuses_unknown_apps(
    tmp_path: Path, cli_env: tuple[Settings, Database], template: bytes
) -> None:
    source = tmp_path / "x.xlsx"
    source.write_bytes(template)
    result = runner.invoke(app, ["import-excel", str(source), "--app", "NOSUCHAPP", "--json"])
    assert result.exit_code == 1
    assert "does not exist" in result.stdout


def test_import_excel_reports_a_file_level_refusal(
    tmp_path: Path, cli_env: tuple[Settings, Database], template: bytes
) -> None:
    current, database = cli_env
    registered = register(current, database)
    source = tmp_path / "empty.xlsx"
    source.write_bytes(template)  # the blank template: no data rows
    result = runner.invoke(app, ["import-excel", str(source), "--app", registered.app_id, "--json"])
    assert result.exit_code == 1
    assert "没有数据行" in orjson.loads(result.stdout)["error"]
