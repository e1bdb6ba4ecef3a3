"""``vte-facade synth --defects``: every data-quality check gets defects, deterministically, with its ground truth."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facade.cli.main import app
from facade.dictionary.loader import load_dictionary
from facade.quality.rules import RuleSet, load_rules
from facade.synth.defects import with_defects
from facade.synth.dq_truth import expected_quality
from facade.synth.generator import RegionSpec, generate

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "mappings" / "quality", load_dictionary(REPO / "mappings"))


def test_every_check_is_injected_and_the_truth_sees_it(rules: RuleSet) -> None:
    spec = RegionSpec(seed=5, hospitals=2, encounters=50, period="2026-02")
    planned = with_defects(generate(spec), rules)
    again = with_defects(generate(spec), rules)
    assert planned.as_dict() == again.as_dict()  # deterministic
    at = [s.at_ms for s in planned.submissions]
    assert at == sorted(at) and len(set(at)) == len(at)
    truth = expected_quality(planned, rules)
    found: Counter[str] = Counter()
    for (_org, _month, check), (numerator, _denominator) in truth.tally.items():
        found[check] += numerator
    for check in rules.checks.values():
        assert planned.injected[check.id] >= 1, check.id
        if not check.daily:
            assert found[check.id] >= planned.injected[check.id], check.id
    # refusals are planned with their code and field; nothing else is expected to fail
    codes = Counter(e.code for e in planned.expected.values())
    assert codes["3001"] == sum(
        planned.injected[c] for c in rules.checks if c.startswith("completeness.required.")
    )
    assert codes["3003"] == sum(
        planned.injected[c] for c in rules.checks if c.startswith("conformance.code-table.")
    )


def test_cli_writes_the_schedule_and_the_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path / "var"))
    out = tmp_path / "region"
    result = runner.invoke(
        app,
        [
            "synth",
            "--seed",
            "6",
            "--hospitals",
            "2",
            "--encounters",
            "50",
            "--period",
            "2026-02",
            "--out",
            str(out),
            "--defects",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    planned = json.loads((out / "dq" / "submissions.json").read_text(encoding="utf-8"))
    expected = json.loads((out / "dq" / "expected.json").read_text(encoding="utf-8"))
    assert summary["defects"]["submissions"] == len(planned["submissions"])
    assert summary["defects"]["volumeHospital"] == planned["hospitals"][-1]
    assert {row["check"] for row in expected["counts"]} >= {"consistency.orphan", "timeliness.case"}
