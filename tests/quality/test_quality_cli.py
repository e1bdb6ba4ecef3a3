"""``vte-facade dq``: the report as text, JSON, workbook and FHIR Bundle from the facade database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from quality_kit import Replayed
from typer.testing import CliRunner

from facade.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(shared: Replayed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTE_DATABASE_URL", shared.service.reports.database.url)
    monkeypatch.setenv("VTE_VAR_DIR", str(shared.service.settings.var_dir))


def test_region_and_institution_reports(shared: Replayed, env: None, tmp_path: Path) -> None:
    text = runner.invoke(app, ["dq", "--period", "2026-02"])
    assert text.exit_code == 0, text.output
    assert "hospitals" in text.output and "top problems" in text.output
    org = shared.defects.hospitals[0].org_code
    xlsx, fhir = tmp_path / "r.xlsx", tmp_path / "r.json"
    result = runner.invoke(
        app,
        [
            "dq",
            "--period",
            "2026-02",
            "--org",
            org,
            "--json",
            "--xlsx",
            str(xlsx),
            "--fhir",
            str(fhir),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["orgCode"] == org and document["rank"]["of"] == len(shared.defects.hospitals)
    assert "问题记录" in load_workbook(xlsx, read_only=True).sheetnames
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    assert bundle["entry"][0]["resource"]["resourceType"] == "MeasureReport"


def test_bad_period_fails_with_the_rule(env: None) -> None:
    result = runner.invoke(app, ["dq", "--period", "2026-Q5", "--json"])
    assert result.exit_code == 1
    assert "period" in json.loads(result.output)["error"]
    missing = runner.invoke(app, ["dq"])
    assert missing.exit_code == 2
    rules = runner.invoke(app, ["dq", "rules", "--json"])
    assert rules.exit_code == 0 and len(json.loads(rules.output)["rules"]) > 100
