"""Invalid examples: the manifest loads, every patch applies, and each one changes its base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facade.dictionary.loader import DictionaryError
from facade.ig.invalid import PatchOp, apply_op, load_invalid_examples, materialise

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
RESOURCES = PROFILES / "fsh-generated" / "resources"


def test_json_patch_subset() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    apply_op(doc, PatchOp(op="add", path="/a/-", value=3))
    apply_op(doc, PatchOp(op="add", path="/a/0", value=0))
    apply_op(doc, PatchOp(op="replace", path="/b/c", value={"d": 2}))
    apply_op(doc, PatchOp(op="remove", path="/a/1"))
    apply_op(doc, PatchOp(op="add", path="/e~1f", value=True))
    assert doc == {"a": [0, 2, 3], "b": {"c": {"d": 2}}, "e/f": True}
    with pytest.raises(KeyError):
        apply_op(doc, PatchOp(op="replace", path="/missing", value=1))


def test_every_profile_has_invalid_examples_and_every_patch_applies() -> None:
    examples = load_invalid_examples(PROFILES)
    profiles = {
        json.loads(p.read_text())["id"]
        for p in RESOURCES.glob("StructureDefinition-*.json")
        if json.loads(p.read_text())["kind"] == "resource"
    }
    assert {e.profile for e in examples} == profiles
    for example in examples:
        resource = materialise(example, RESOURCES)
        base = json.loads(next(RESOURCES.glob(f"*-{example.base}.json")).read_text())
        assert resource["id"] == example.id
        assert {k: v for k, v in resource.items() if k != "id"} != {
            k: v for k, v in base.items() if k != "id"
        }


def test_manifest_errors_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "invalid-examples.yaml").write_text(
        "version: 1\nexamples:\n  - id: x\n    base: y\n", encoding="utf-8"
    )
    with pytest.raises(
        DictionaryError, match=r"profiles/invalid-examples.yaml: examples.0.profile: Field required"
    ):
        load_invalid_examples(tmp_path)
