"""Extract from the FHIR R4 core package what the role views need at run time, into one committed file.

The views (``facade/privacy``) classify every element of every profile; the profiles are
differentials, so the element trees of the base resources and data types come from
``hl7.fhir.r4.core`` 4.0.1. The facade image carries no FHIR package cache, so the part it needs
is written to ``profiles/r4-core-extract.json`` (by ``vte-facade ig build`` and
``vte-facade ig render-views``; a test fails when it differs from a fresh extraction):

* ``types``: every complex data type, the abstract resource bases and every resource type the
  guide profiles or has instances of, each with its elements (relative path, type codes,
  cardinality, base path, binding, Reference targets, content reference);
* ``primitives``: the primitive type names;
* ``code_systems``: code -> display of the core CodeSystems the guide names (so views can
  re-derive ``Coding.display``); large ones only with the codes the guide itself uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from facade.ig.loader import CONFORMANCE_ORDER

EXTRACT_NAME = "r4-core-extract.json"
SOURCE = "hl7.fhir.r4.core#4.0.1"
# Bigger core CodeSystems (v3-ActCode has ~1100 concepts) keep only the codes the guide uses.
_FULL_SYSTEM_MAX = 200
_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
_CONFORMANCE = frozenset(CONFORMANCE_ORDER) - {"Measure"}


def _core_sds(core_dir: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((core_dir / "package").glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text(encoding="utf-8"))
        found[sd["id"]] = sd
    return found


def _type_code(entry: dict[str, Any]) -> str:
    """The FHIR type of a type entry (FHIRPath system types carry it in an extension)."""
    for ext in entry.get("extension", []):
        if ext.get("url") == _FHIR_TYPE_EXT:
            return str(ext["valueUrl"])
    return str(entry["code"])


def _element(type_name: str, element: dict[str, Any]) -> dict[str, Any] | None:
    if element.get("max") == "0":
        return None  # prohibited by a constraint type (SimpleQuantity.comparator)
    path = element["path"][len(type_name) + 1 :]
    row: dict[str, Any] = {"path": path, "min": element.get("min", 0), "max": element["max"]}
    if "contentReference" in element:
        row["ref"] = element["contentReference"].lstrip("#")[len(type_name) + 1 :]
    else:
        row["types"] = [_type_code(t) for t in element.get("type", [])]
        targets = sorted(
            {
                p[len(_SD_PREFIX) :]
                for t in element.get("type", [])
                if t.get("code") == "Reference"
                for p in t.get("targetProfile", [])
                if p.startswith(_SD_PREFIX)
            }
        )
        if targets:
            row["targets"] = targets
        constrained = sorted(
            {
                p[len(_SD_PREFIX) :]
                for t in element.get("type", [])
                for p in t.get("profile", [])
                if p.startswith(_SD_PREFIX)
            }
        )
        if constrained:
            row["profiles"] = constrained  # e.g. SimpleQuantity: a Quantity without comparator
    base = element.get("base", {}).get("path")
    if base and base != element["path"]:
        row["base"] = base
    binding = element.get("binding") or {}
    if binding.get("valueSet"):
        row["binding"] = [binding["strength"], binding["valueSet"].split("|")[0]]
    return row


def _type_entry(sd: dict[str, Any]) -> dict[str, Any]:
    base = str(sd.get("baseDefinition", ""))
    entry: dict[str, Any] = {"kind": sd["kind"], "abstract": bool(sd.get("abstract"))}
    if base.startswith(_SD_PREFIX):
        entry["base"] = base[len(_SD_PREFIX) :]
    elements = [_element(sd["type"], e) for e in sd["snapshot"]["element"][1:]]
    entry["elements"] = [e for e in elements if e is not None]
    return entry


def _guide_resources(resources_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(resources_dir.glob("*.json"))]


def _resource_types(guide: list[dict[str, Any]]) -> set[str]:
    """Resource types the guide profiles or has instances of."""
    found = {
        str(r["type"])
        for r in guide
        if r["resourceType"] == "StructureDefinition" and r.get("kind") == "resource"
    }
    found |= {str(r["resourceType"]) for r in guide if r["resourceType"] not in _CONFORMANCE}
    return found


def concept_displays(concepts: list[dict[str, Any]]) -> dict[str, str]:
    """code -> display of a CodeSystem's (nested) concepts."""
    out: dict[str, str] = {}
    stack = list(concepts)
    while stack:
        concept = stack.pop()
        if concept.get("display"):
            out[str(concept["code"])] = str(concept["display"])
        stack.extend(concept.get("concept", []))
    return out


def _code_systems(core_dir: Path, guide: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    text = json.dumps(guide, ensure_ascii=False)
    systems: dict[str, dict[str, str]] = {}
    for path in sorted((core_dir / "package").glob("CodeSystem-*.json")):
        cs = json.loads(path.read_text(encoding="utf-8"))
        url = cs.get("url", "")
        if f'"{url}"' not in text and f'"{url}|' not in text:
            continue
        displays = concept_displays(cs.get("concept", []))
        if not displays:
            continue
        if len(displays) > _FULL_SYSTEM_MAX:
            displays = {c: d for c, d in displays.items() if f'"{c}"' in text}
        systems[url] = dict(sorted(displays.items()))
    return dict(sorted(systems.items()))


def _reachable(types: dict[str, Any], roots: set[str]) -> dict[str, Any]:
    """Only the types reachable from ``roots`` through element types and base definitions."""
    seen: set[str] = set()
    stack = sorted(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in types:
            continue
        seen.add(name)
        entry = types[name]
        stack.extend([entry["base"]] if "base" in entry else [])
        stack.extend(t for row in entry["elements"] for t in row.get("types", []))
    return {name: entry for name, entry in types.items() if name in seen}


def extract(core_dir: Path, resources_dir: Path) -> dict[str, Any]:
    """The extract for the guide in ``resources_dir`` from the core package in ``core_dir``."""
    sds = _core_sds(core_dir)
    guide = _guide_resources(resources_dir)
    wanted = _resource_types(guide) | {"Resource", "DomainResource"}
    types: dict[str, Any] = {}
    primitives: list[str] = []
    for sd_id, sd in sds.items():
        if sd.get("derivation") == "constraint" and sd_id not in (
            "SimpleQuantity",
            "MoneyQuantity",
        ):
            continue  # profiles and extensions of the core spec, not types
        if sd["kind"] == "primitive-type":
            primitives.append(sd_id)
        elif sd["kind"] == "complex-type" or (sd["kind"] == "resource" and sd_id in wanted):
            types[sd_id] = _type_entry(sd)
    missing = wanted - set(types)
    if missing:
        raise ValueError(f"core package lacks definitions of {sorted(missing)}")
    types = _reachable(types, wanted | {"Element", "BackboneElement", "Extension"})
    return {
        "source": SOURCE,
        "note": "GENERATED by facade.ig.core_extract (vte-facade ig render-views); do not edit",
        "primitives": sorted(primitives),
        "types": dict(sorted(types.items())),
        "code_systems": _code_systems(core_dir, guide),
    }


def render(core_dir: Path, resources_dir: Path) -> str:
    """The extract as the committed file's text (stable: sorted keys, one element per line)."""
    data = extract(core_dir, resources_dir)
    lines = ["{"]
    lines.append(f'"source": {json.dumps(data["source"])},')
    lines.append(f'"note": {json.dumps(data["note"])},')
    lines.append(f'"primitives": {json.dumps(data["primitives"])},')
    lines.append('"types": {')
    type_items = list(data["types"].items())
    for i, (name, entry) in enumerate(type_items):
        head = {k: v for k, v in entry.items() if k != "elements"}
        lines.append(f"{json.dumps(name)}: {{")
        for key, value in head.items():
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
        lines.append('  "elements": [')
        rows = entry["elements"]
        for j, row in enumerate(rows):
            comma = "," if j < len(rows) - 1 else ""
            lines.append(f"    {json.dumps(row, ensure_ascii=False)}{comma}")
        lines.append("  ]")
        lines.append("}" + ("," if i < len(type_items) - 1 else ""))
    lines.append("},")
    lines.append('"code_systems": {')
    cs_items = list(data["code_systems"].items())
    for i, (url, displays) in enumerate(cs_items):
        comma = "," if i < len(cs_items) - 1 else ""
        lines.append(f"{json.dumps(url)}: {json.dumps(displays, ensure_ascii=False)}{comma}")
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(core_dir: Path, profiles_dir: Path) -> tuple[Path, bool]:
    """(Re)write ``profiles/r4-core-extract.json``; returns its path and whether it changed."""
    target = profiles_dir / EXTRACT_NAME
    text = render(core_dir, profiles_dir / "fsh-generated" / "resources")
    changed = not target.is_file() or target.read_text(encoding="utf-8") != text
    if changed:
        target.write_text(text, encoding="utf-8")
    return target, changed
