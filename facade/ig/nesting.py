"""How deep extensions may nest in what the FHIR door accepts, derived from the StructureDefinitions.

The intake limit on extension nesting (``facade/frontdoor/limits.py``) is not a guess: it is

    (deepest nesting an extension of our guide defines, counted from the resource, including
     where our profiles place it)
  + (deepest nesting of a FHIR core extension whose context is an element we accept)

because every element of a guide extension (its value, a sub-extension's value) may itself carry
a core extension (``translation`` on a string, ``cqf-measureInfo`` on any Element, ...). Core
extensions are counted as they are defined; an extension on the value of a core extension is not
admitted (FHIR would allow it without end, which is exactly the cost the limit exists to stop).

Nesting counts ``extension`` / ``modifierExtension`` steps on the path from the resource:
``Patient.extension`` is 1, ``RiskAssessment.extension:assessmentItem.extension:item`` is 2.

``vte-facade ig build`` writes the result to ``profiles/fsh-generated/extension-nesting.json``
(committed; the core package is not shipped with the facade), and a test recomputes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from facade.errors import ConfigurationError
from facade.fhir.capability import SERVED_TYPES

NESTING_FILE = "extension-nesting.json"
_EXTENSION_STEPS = ("extension", "modifierExtension")
# Contexts every element of an accepted resource has.
_UNIVERSAL_CONTEXTS = frozenset({"Element", "BackboneElement", "Resource", "DomainResource"})


class Deepest(BaseModel):
    """The deepest nesting of one source and the extension (and place) that reaches it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nesting: int = Field(ge=0)
    where: str


class ExtensionNesting(BaseModel):
    """What the StructureDefinitions imply; ``max_nesting`` is the intake limit's default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_nesting: int = Field(ge=1)
    guide: Deepest
    core: Deepest
    rule: str = (
        "max_nesting = guide.nesting + core.nesting: the deepest guide extension, plus the "
        "deepest core extension allowed on an element we accept, on its innermost element"
    )


def _steps(element_id: str) -> int:
    """Extension steps in an element id (``Extension.extension:item.value[x]`` -> 1)."""
    return sum(1 for part in element_id.split(".") if part.split(":")[0] in _EXTENSION_STEPS)


def _elements(sd: dict[str, Any]) -> list[dict[str, Any]]:
    """Snapshot elements when present (core), else the differential (SUSHI output)."""
    return list((sd.get("snapshot") or sd.get("differential") or {}).get("element", []))


def extension_depth(
    sd: dict[str, Any],
    lookup: Callable[[str], dict[str, Any] | None],
    seen: frozenset[str] = frozenset(),
) -> int:
    """How deep an extension nests by its own definition (simple: 1, with sub-extensions: 2, ...).

    Sub-extensions are the allowed slices of ``Extension.extension``; a slice typed with another
    extension's profile adds that extension's own depth (with a guard against cycles).
    """
    url = str(sd.get("url", ""))
    depth = 1
    for element in _elements(sd):
        if element.get("max") == "0":
            continue
        element_id = str(element.get("id", ""))
        if element_id == "Extension":
            continue
        last = element_id.split(".")[-1].split(":")[0]
        if last not in _EXTENSION_STEPS or ":" not in element_id.split(".")[-1]:
            continue
        inner = 1
        for kind in element.get("type", []):
            for profile in kind.get("profile", []):
                target = lookup(profile)
                if target is not None and profile not in seen and profile != url:
                    inner = max(inner, extension_depth(target, lookup, seen | {url}))
        depth = max(depth, _steps(element_id) + inner)
    return depth


def _by_url(sds: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(sd["url"]): sd for sd in sds if sd.get("type") == "Extension" and "url" in sd}


def _is_extension(sd: dict[str, Any]) -> bool:
    return sd.get("resourceType") == "StructureDefinition" and sd.get("type") == "Extension"


def guide_nesting(resources_dir: Path) -> Deepest:
    """Deepest nesting defined by our guide: each extension on its own, and as placed by each profile."""
    sds = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(resources_dir.glob("*.json"))]
    sds = [sd for sd in sds if sd.get("resourceType") == "StructureDefinition"]
    extensions = _by_url(sd for sd in sds if _is_extension(sd))
    best = Deepest(nesting=0, where="no extension in the guide")
    for url, ext in sorted(extensions.items()):
        depth = extension_depth(ext, extensions.get)
        if depth > best.nesting:
            best = Deepest(nesting=depth, where=url)
    for profile in sds:
        if profile.get("kind") != "resource" or _is_extension(profile):
            continue
        for element in _elements(profile):
            element_id = str(element.get("id", ""))
            for kind in element.get("type", []):
                for url in kind.get("profile", []) if kind.get("code") == "Extension" else []:
                    placed = extensions.get(url)
                    if placed is None:
                        continue
                    depth = _steps(element_id) - 1 + extension_depth(placed, extensions.get)
                    if depth > best.nesting:
                        best = Deepest(nesting=depth, where=f"{element_id} ({url})")
    return best


def accepted_types(core_dir: Path, resource_types: Iterable[str] = SERVED_TYPES) -> set[str]:
    """The resource types and every data type reachable from their elements (core definitions)."""
    seen: set[str] = set()
    todo = list(resource_types)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = core_dir / "package" / f"StructureDefinition-{name}.json"
        if not path.is_file():
            continue
        for element in _elements(json.loads(path.read_text(encoding="utf-8"))):
            todo.extend(str(t["code"]) for t in element.get("type", []) if "code" in t)
    return seen


@cache
def _core_extensions(core_dir: Path) -> dict[str, dict[str, Any]]:
    """The extension definitions of the core package, by URL (read once: ~4,600 files)."""
    sds = []
    for path in sorted((core_dir / "package").glob("StructureDefinition-*.json")):
        text = path.read_text(encoding="utf-8")
        if '"Extension"' in text:  # cheap filter before parsing
            sds.append(json.loads(text))
    return _by_url(sd for sd in sds if _is_extension(sd) and sd.get("derivation") == "constraint")


def core_nesting(core_dir: Path, resource_types: Iterable[str] = SERVED_TYPES) -> Deepest:
    """Deepest nesting of a core extension whose context is an element of what we accept."""
    accepted = accepted_types(core_dir, resource_types) | _UNIVERSAL_CONTEXTS
    extensions = _core_extensions(core_dir)
    best = Deepest(nesting=0, where="no applicable core extension")
    for url, ext in sorted(extensions.items()):
        contexts = [
            str(c.get("expression", "")).split(".")[0]
            for c in ext.get("context", [])
            if c.get("type") == "element"
        ]
        if not any(context in accepted for context in contexts):
            continue
        depth = extension_depth(ext, extensions.get)
        if depth > best.nesting:
            best = Deepest(nesting=depth, where=f"{url} (context {', '.join(contexts)})")
    return best


def derive(resources_dir: Path, core_dir: Path) -> ExtensionNesting:
    """The extension nesting the guide and the core extensions on accepted elements imply."""
    guide = guide_nesting(resources_dir)
    core = core_nesting(core_dir)
    return ExtensionNesting(max_nesting=guide.nesting + core.nesting, guide=guide, core=core)


def write_nesting(profiles_dir: Path, nesting: ExtensionNesting) -> Path:
    """Write the derived nesting beside the generated resources (``fsh-generated/``)."""
    path = profiles_dir / "fsh-generated" / NESTING_FILE
    path.write_text(nesting.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def read_nesting(profiles_dir: Path) -> ExtensionNesting:
    """The committed nesting; ConfigurationError when missing or malformed."""
    path = profiles_dir / "fsh-generated" / NESTING_FILE
    try:
        return ExtensionNesting.model_validate_json(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read the derived extension nesting ({exc}); run `vte-facade ig build`"
        ) from exc
