"""Code translation driven by the implementation guide's generated ConceptMap resources.

The ConceptMaps under ``profiles/fsh-generated/resources`` are what HAPI and every other reader of
the guide see, so the engine translates with exactly those and not with a private copy; a test
keeps them equal to the code tables' ``concept_maps``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facade.errors import ConfigurationError

RESOURCES = Path("fsh-generated") / "resources"


@dataclass(frozen=True)
class Translation:
    """Where one source code goes: the target system, code and (optional) display."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class ConceptMapTable:
    """One ConceptMap as a lookup from source code to its first target."""

    map_id: str
    url: str
    source_system: str
    target_system: str
    forward: dict[str, Translation]

    def reverse(self, target_code: str) -> str | None:
        """The one source code mapped to ``target_code``; None when none or several are."""
        sources = [code for code, t in self.forward.items() if t.code == target_code]
        return sources[0] if len(sources) == 1 else None


class Terminology:
    """Every ConceptMap of the guide, by id."""

    def __init__(self, maps: dict[str, ConceptMapTable]) -> None:
        self.maps = maps

    @classmethod
    def from_profiles(cls, profiles_dir: Path) -> Terminology:
        """Read ``ConceptMap-*.json`` of the built guide; ConfigurationError if there are none."""
        folder = profiles_dir / RESOURCES
        files = sorted(folder.glob("ConceptMap-*.json"))
        if not files:
            raise ConfigurationError(
                f"no generated ConceptMaps in {folder}: build the guide first (vte-facade ig build)"
            )
        maps: dict[str, ConceptMapTable] = {}
        for path in files:
            table = _table(json.loads(path.read_text(encoding="utf-8")), path)
            maps[table.map_id] = table
        return cls(maps)

    def table(self, map_id: str) -> ConceptMapTable:
        """The ConceptMap with this id; ConfigurationError if the guide has none."""
        found = self.maps.get(map_id)
        if found is None:
            raise ConfigurationError(f"the guide has no ConceptMap {map_id!r}")
        return found

    def translate(self, map_id: str, code: str) -> Translation | None:
        """The target of ``code`` in the map, or None when the map leaves it unmapped."""
        return self.table(map_id).forward.get(code)


def _table(resource: dict[str, Any], path: Path) -> ConceptMapTable:
    groups = resource.get("group") or []
    if resource.get("resourceType") != "ConceptMap" or len(groups) != 1:
        raise ConfigurationError(f"{path.name}: expected a ConceptMap with exactly one group")
    group = groups[0]
    forward: dict[str, Translation] = {}
    for element in group.get("element", []):
        targets = element.get("target") or []
        if not targets or "code" not in targets[0]:
            continue
        first = targets[0]
        forward[str(element["code"])] = Translation(
            group["target"], str(first["code"]), first.get("display")
        )
    return ConceptMapTable(
        map_id=str(resource["id"]),
        url=str(resource.get("url", "")),
        source_system=str(group["source"]),
        target_system=str(group["target"]),
        forward=forward,
    )
