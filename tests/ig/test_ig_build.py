"""SUSHI rebuild: committed JSON equals a fresh build, with no SUSHI error; canonical kept in one place."""

from __future__ import annotations

from pathlib import Path

import yaml

from facade.fhir import naming
from facade.ig.build import BuildResult, _diagnostics, compare_trees
from facade.ig.terminology import GENERATED_NAME

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "profiles" / "fsh-generated" / "resources"


def test_committed_output_equals_a_fresh_sushi_build(ig_rebuild: BuildResult) -> None:
    assert ig_rebuild.resource_count == len(list(COMMITTED.glob("*.json")))
    assert compare_trees(COMMITTED, ig_rebuild.resources_dir) == []


def test_rebuild_regenerates_the_committed_terminology(ig_rebuild: BuildResult) -> None:
    rebuilt = ig_rebuild.resources_dir.parent.parent / "input" / "fsh" / GENERATED_NAME
    assert rebuilt.read_text(encoding="utf-8") == (
        REPO / "profiles" / "input" / "fsh" / GENERATED_NAME
    ).read_text(encoding="utf-8")


def test_only_the_known_offline_warnings(ig_rebuild: BuildResult) -> None:
    assert all(w.startswith("Failed to load automatically-provided") for w in ig_rebuild.warnings)


def test_compare_trees_reports_each_kind_of_drift(tmp_path: Path) -> None:
    left, right = tmp_path / "a", tmp_path / "b"
    left.mkdir()
    right.mkdir()
    (left / "same.json").write_text('{"a": 1, "b": 2}')
    (right / "same.json").write_text('{"b": 2, "a": 1}')
    (left / "gone.json").write_text("{}")
    (right / "new.json").write_text("{}")
    (left / "diff.json").write_text('{"a": 1}')
    (right / "diff.json").write_text('{"a": 2}')
    assert compare_trees(left, right) == [
        "missing from the rebuild: gone.json",
        "not committed: new.json",
        "differs from the rebuild: diff.json",
    ]


def test_sushi_diagnostics_are_parsed_with_their_location() -> None:
    output = "\n".join(
        [
            "info  Converting FSH",
            "error Cannot resolve element from path: nme",
            "  File: /x/input/fsh/patient.fsh",
            "  Line: 12",
            "warn  Failed to load automatically-provided hl7.terminology.r4#latest",
            "|  Errors 1 ...",
        ]
    )
    errors, warnings = _diagnostics(output)
    assert errors == [
        "Cannot resolve element from path: nme File: /x/input/fsh/patient.fsh Line: 12"
    ]
    assert warnings == ["Failed to load automatically-provided hl7.terminology.r4#latest"]


def test_canonical_is_the_same_in_sushi_config_and_naming() -> None:
    config = yaml.safe_load((REPO / "profiles" / "sushi-config.yaml").read_text(encoding="utf-8"))
    assert config["canonical"] == naming.CANONICAL
    for path in COMMITTED.glob("StructureDefinition-*.json"):
        assert (
            path.read_text(encoding="utf-8").count(
                f'"url": "{naming.CANONICAL}/StructureDefinition/'
            )
            >= 1
        )


def test_examples_use_the_naming_systems() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in COMMITTED.glob("*-example.json"))
    for system in (
        naming.REPORTING_ORG_TAG,
        naming.ORG_CODE_SYSTEM,
        naming.REGIONAL_PSEUDONYM_SYSTEM,
        naming.record_identifier_system("12330100470116614F", "case"),
        naming.department_code_system("12330100470116614F"),
    ):
        assert system in text
