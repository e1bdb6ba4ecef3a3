"""``vte-facade synth`` and ``vte-facade indicators definitions`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facade.cli.main import app
from facade.indicators.definitions import load_definitions
from facade.synth.generator import RegionSpec, generate
from facade.synth.truth import expected

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path / "var"))


def test_synth_writes_records_truth_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "region"
    result = runner.invoke(
        app,
        [
            "synth",
            "--seed",
            "8",
            "--hospitals",
            "2",
            "--encounters",
            "90",
            "--out",
            str(out),
            "--run",
            "cli",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["stays"] == 90 and len(summary["hospitals"]) == 2
    region = generate(RegionSpec(seed=8, hospitals=2, encounters=90, run="cli"))
    org = region.org_codes[0]
    assert (
        json.loads((out / "records" / org / "case.json").read_text())
        == region.records()[org]["case"]
    )
    truth = expected(
        region.records(), load_definitions(REPO / "mappings" / "indicators"), "2026-Q1"
    )
    written = json.loads((out / "expected.json").read_text())
    assert written == {k: json.loads(json.dumps(v.as_dict())) for k, v in truth.items()}
    assert "VTE at another hospital on day 90 after discharge" in summary["edgeCases"]


def test_definitions_list_and_period_required() -> None:
    listed = runner.invoke(app, ["indicators", "definitions", "--json"])
    assert listed.exit_code == 0, listed.output
    ids = [d["id"] for d in json.loads(listed.output)]
    assert ids[:3] == ["A1", "A1t", "A2"] and "C6" in ids
    missing = runner.invoke(app, ["indicators", "--json"])
    assert missing.exit_code == 2
    assert "--period is required" in missing.output
