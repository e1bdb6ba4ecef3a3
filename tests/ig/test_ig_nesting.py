"""The extension-nesting limit is what the StructureDefinitions imply, and follows them when they change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from facade.ig.build import BuildResult
from facade.ig.nesting import (
    NESTING_FILE,
    core_nesting,
    derive,
    extension_depth,
    guide_nesting,
    read_nesting,
)

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "profiles" / "fsh-generated" / "resources"
CANONICAL = "https://fhir.vte-region.cn/ig/StructureDefinition"


def test_committed_nesting_equals_what_the_structure_definitions_imply(core_dir: Path) -> None:
    committed = read_nesting(REPO / "profiles")
    assert derive(RESOURCES, core_dir) == committed
    # today: a complex guide extension (2) with a complex core extension on its innermost element (2)
    assert (committed.guide.nesting, committed.core.nesting, committed.max_nesting) == (2, 2, 4)
    assert committed.guide.where.startswith(CANONICAL)


def test_the_build_writes_the_nesting_beside_the_resources(ig_rebuild: BuildResult) -> None:
    rebuilt = ig_rebuild.resources_dir.parent / NESTING_FILE
    assert json.loads(rebuilt.read_text()) == json.loads(
        (REPO / "profiles" / "fsh-generated" / NESTING_FILE).read_text()
    )


def _extension(url: str, slices: list[tuple[str, str | None]]) -> dict[str, Any]:
    """A differential-only extension SD with sub-extension slices (name, profile of the slice)."""
    elements: list[dict[str, Any]] = [{"id": "Extension", "path": "Extension"}]
    for name, profile in slices:
        element: dict[str, Any] = {
            "id": f"Extension.extension:{name}",
            "path": "Extension.extension",
        }
        if profile:
            element["type"] = [{"code": "Extension", "profile": [profile]}]
        elements.append(element)
        elements.append(
            {
                "id": f"Extension.extension:{name}.extension",
                "path": "Extension.extension.extension",
                "max": "0",
            }
        )
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "type": "Extension",
        "kind": "complex-type",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def test_depth_follows_sub_extensions_and_profiled_slices_without_looping() -> None:
    simple = _extension(f"{CANONICAL}/simple", [])
    complex_ = _extension(f"{CANONICAL}/complex", [("a", None), ("b", None)])
    outer = _extension(f"{CANONICAL}/outer", [("inner", f"{CANONICAL}/complex")])
    looping = _extension(f"{CANONICAL}/loop", [("self", f"{CANONICAL}/loop")])
    known = {sd["url"]: sd for sd in (simple, complex_, outer, looping)}
    assert extension_depth(simple, known.get) == 1
    assert extension_depth(complex_, known.get) == 2
    assert extension_depth(outer, known.get) == 3
    assert extension_depth(looping, known.get) == 2


def test_a_deeper_guide_extension_raises_the_limit(tmp_path: Path, core_dir: Path) -> None:
    guide = tmp_path / "resources"
    shutil.copytree(RESOURCES, guide)
    outer = _extension(f"{CANONICAL}/nested-item", [("item", f"{CANONICAL}/assessment-item")])
    outer["id"] = "nested-item"
    (guide / "StructureDefinition-nested-item.json").write_text(json.dumps(outer))
    assert guide_nesting(guide).nesting == 3
    assert derive(guide, core_dir).max_nesting == 5


def test_core_extensions_count_only_on_elements_we_accept(core_dir: Path) -> None:
    accepted = core_nesting(core_dir)
    assert accepted.nesting == 2
    # codesystem-history nests 3 deep, but its context (CodeSystem) is not a type we accept
    assert core_nesting(core_dir, ["CodeSystem"]).nesting == 3
    assert "codesystem-history" in core_nesting(core_dir, ["CodeSystem"]).where
