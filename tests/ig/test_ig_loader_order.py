"""The loader's order: terminology before profiles, every StructureDefinition after the guide's ones it uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facade.ig.loader import CONFORMANCE_ORDER, conformance_resources

RESOURCES = Path(__file__).resolve().parents[2] / "profiles" / "fsh-generated" / "resources"


def _uses(definition: dict[str, Any]) -> set[str]:
    used = {definition["baseDefinition"]}
    for element in definition["differential"]["element"]:
        for kind in element.get("type", []):
            used.update(kind.get("profile", []))
    return used


def test_types_keep_their_order_and_profiles_follow_what_they_use() -> None:
    resources = conformance_resources(RESOURCES)
    ranks = [CONFORMANCE_ORDER.index(r["resourceType"]) for r in resources]
    assert ranks == sorted(ranks)
    position = {
        r["url"]: i for i, r in enumerate(resources) if r["resourceType"] == "StructureDefinition"
    }
    pairs = [
        (used, sd["url"])
        for sd in resources
        if sd["resourceType"] == "StructureDefinition"
        for used in _uses(sd)
        if used in position
    ]
    assert pairs, "the guide's profiles use its extensions"
    assert [(u, d) for u, d in pairs if position[u] > position[d]] == []


def test_the_order_is_the_same_on_every_call() -> None:
    first = [r["id"] for r in conformance_resources(RESOURCES)]
    assert [r["id"] for r in conformance_resources(RESOURCES)] == first
