"""Check that the dictionary, the generated profiles and the code tables agree.

Every FHIR target, key, constant and reference path must exist in the base resource (walked through
the R4 core StructureDefinitions), must not be prohibited by our profile, and every extension it
crosses must be one of ours and allowed where it is used. Every coded field's table must exist as
a generated CodeSystem with exactly the same codes, and a field's code ``pattern`` must be the one
the profile's invariants apply to that code system (so both doors accept the same codes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field, Group, RecordType
from facade.dictionary.paths import Step, parse, resolve

SAMPLE_ORG = "12330100470116614F"  # any institution code: only the token shapes matter here


@dataclass(frozen=True)
class _Node:
    """Where a walk stands: a core StructureDefinition and an element path inside it (or an extension)."""

    sd: dict[str, Any]
    path: str
    extension: dict[str, Any] | None = None
    slice: str | None = None  # sub-extension name inside a complex extension


class IgIndex:
    """The generated resources by type and canonical URL, plus the core package for base definitions."""

    def __init__(self, resources_dir: Path, core_dir: Path) -> None:
        self.core_dir = core_dir
        self.by_url: dict[str, dict[str, Any]] = {}
        self.by_type_id: dict[tuple[str, str], dict[str, Any]] = {}
        for path in sorted(resources_dir.glob("*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            self.by_type_id[(resource["resourceType"], resource["id"])] = resource
            if "url" in resource:
                self.by_url[resource["url"]] = resource

    def core(self, type_name: str) -> dict[str, Any] | None:
        """The core StructureDefinition of a resource or data type."""
        return _load_core(self.core_dir, type_name)


@cache
def _load_core(core_dir: Path, type_name: str) -> dict[str, Any] | None:
    path = core_dir / "package" / f"StructureDefinition-{type_name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def check_consistency(dictionary: Dictionary, index: IgIndex) -> list[str]:
    """Every disagreement found, as ``record_type: where: problem`` lines; empty when all agree."""
    problems: list[str] = []
    for record in dictionary.record_types.values():
        problems += [f"{record.record_type}: {p}" for p in _check_record(dictionary, index, record)]
    for table in dictionary.code_tables.values():
        problems += [
            f"code table {table.id}: {p}" for p in _check_table(index, table.system, table.codes)
        ]
        for cmap in table.concept_maps:
            generated = index.by_type_id.get(("ConceptMap", cmap.id))
            if generated is None:
                problems.append(f"code table {table.id}: ConceptMap {cmap.id} was not generated")
            elif generated["group"][0]["source"] != table.system:
                problems.append(
                    f"code table {table.id}: ConceptMap {cmap.id} maps from another system"
                )
    return problems


def _check_table(index: IgIndex, system: str, codes: list[str]) -> list[str]:
    generated = index.by_url.get(system)
    if generated is None or generated["resourceType"] != "CodeSystem":
        return [f"no CodeSystem with url {system}"]
    have = [c["code"] for c in generated.get("concept", [])]
    if have != codes:
        return [f"CodeSystem codes {have} differ from the table's {codes}"]
    return []


def _check_record(dictionary: Dictionary, index: IgIndex, record: RecordType) -> list[str]:
    problems: list[str] = []
    profiles: dict[str, dict[str, Any]] = {}
    for spec in record.resources:
        sd = index.by_type_id.get(("StructureDefinition", spec.profile))
        if sd is None or sd.get("type") != spec.type or sd.get("kind") != "resource":
            problems.append(
                f"resources({spec.alias}): profile {spec.profile} is not a generated {spec.type} profile"
            )
            continue
        profiles[spec.alias] = sd
        paths = [("key", spec.key)] + [("constants", c.path) for c in spec.constants]
        paths += [("derived", d.path) for d in spec.derived]
        paths += [("defaults", d.path) for d in spec.defaults]
        paths += [("references", r.path) for r in spec.references]
        for where, path in paths:
            problems += [
                f"resources({spec.alias}).{where}: {path}: {p}"
                for p in _walk(index, record, sd, path)
            ]
    for group, field in record.all_fields():
        problems += _check_field(dictionary, index, record, profiles, group, field)
    return problems


def _check_field(
    dictionary: Dictionary,
    index: IgIndex,
    record: RecordType,
    profiles: dict[str, dict[str, Any]],
    group: Group | None,
    field: Field,
) -> list[str]:
    where = f"{group.name + '.' if group else ''}{field.name}"
    problems: list[str] = []
    if field.code_table:
        table = dictionary.code_tables[field.code_table]
        problems += [f"{where}: {p}" for p in _check_table(index, table.system, table.codes)]
    for target in field.fhir:
        for alias in record.target_aliases(target.resource):
            sd = profiles.get(alias)
            if sd is None:
                continue
            path = f"{group.path}.{target.path}" if group and group.path else target.path
            problems += [f"{where}: {alias}.{path}: {p}" for p in _walk(index, record, sd, path)]
            if field.pattern and field.code_system and f"system={field.code_system}]" in path:
                patterns = invariant_patterns(sd, field.code_system)
                if patterns != {field.pattern}:
                    problems.append(
                        f"{where}: profile {sd['id']} checks {field.code_system} codes with "
                        f"{sorted(patterns) or 'no pattern'}, the dictionary with {field.pattern}"
                    )
    return problems


def invariant_patterns(profile: dict[str, Any], system: str) -> set[str]:
    """The regular expressions the profile's invariants apply to codes of ``system``."""
    found: set[str] = set()
    for element in profile.get("differential", {}).get("element", []):
        for constraint in element.get("constraint", []):
            expression = str(constraint.get("expression", ""))
            if f"system = '{system}'" in expression:
                found.update(re.findall(r"code\.matches\('([^']*)'\)", expression))
    return found


def _walk(index: IgIndex, record: RecordType, profile: dict[str, Any], path: str) -> list[str]:
    """Follow ``path`` from the profile's base resource; return what does not exist or is not allowed."""
    base = index.core(profile["type"])
    if base is None:
        return [f"no core definition of {profile['type']}"]
    node = _Node(base, profile["type"])
    full = profile["type"]  # the element path in the profile, for its max = 0 prohibitions
    for step in parse(path):
        if step.name == "extension" and step.key == "url" and step.value:
            url = resolve(step.value, record_type=record.record_type, org_code=SAMPLE_ORG)
            found = _enter_extension(index, profile, node, url)
        else:
            found = _child(index, node, step)
        if isinstance(found, str):
            return [found]
        node = found
        full = f"{full}.{step.name}"
        if node.extension is None and _prohibited(profile, full):
            return [f"profile {profile['id']} prohibits {full}"]
    return []


def _enter_extension(index: IgIndex, profile: dict[str, Any], node: _Node, url: str) -> _Node | str:
    if node.extension is not None and "://" not in url:
        sub = f"Extension.extension:{url}"
        if not any(e["id"] == sub for e in node.extension["differential"]["element"]):
            return f"extension {node.extension['url']} has no sub-extension {url!r}"
        return _Node(node.sd, "Extension", node.extension, url)
    extension = index.by_url.get(url)
    if extension is None or extension.get("type") != "Extension":
        return f"no extension {url} in the guide"
    used = any(
        url in (t.get("profile") or [])
        for element in profile["differential"]["element"]
        for t in element.get("type", [])
    )
    if not used:
        return f"profile {profile['id']} does not allow extension {url}"
    core = index.core("Extension")
    if core is None:
        return "no core definition of Extension"
    return _Node(core, "Extension", extension)


def _child(index: IgIndex, node: _Node, step: Step) -> _Node | str:
    if node.extension is not None and step.name.startswith("value"):
        prefix = f"Extension.extension:{node.slice}." if node.slice else "Extension."
        allowed = [
            t["code"]
            for e in node.extension["differential"]["element"]
            if e["id"] == f"{prefix}value[x]"
            for t in e.get("type", [])
        ]
        chosen = next((code for code in allowed if f"value{_cap(code)}" == step.name), None)
        if chosen is None:
            return f"{node.extension['url']} does not allow {step.name} (allowed: {allowed})"
        return _type_node(index, chosen)
    direct = f"{node.path}.{step.name}"
    for element in node.sd["snapshot"]["element"]:
        element_path = element["path"]
        if element_path == direct:
            return _descend(index, node, element)
        if element_path.endswith("[x]") and direct.startswith(element_path[:-3]):
            suffix = direct[len(element_path) - 3 :]
            for kind in element.get("type", []):
                if _cap(kind["code"]) == suffix:
                    return _type_node(index, kind["code"])
    return f"{node.path} has no element {step.name}"


def _descend(index: IgIndex, node: _Node, element: dict[str, Any]) -> _Node | str:
    if "contentReference" in element:
        return _Node(node.sd, element["contentReference"].lstrip("#"))
    types = [t["code"] for t in element.get("type", [])]
    if types in (["BackboneElement"], ["Element"]):
        return _Node(node.sd, element["path"])
    if len(types) == 1:
        return _type_node(index, types[0])
    return f"{element['path']} has several types; name one (e.g. valueString)"


def _type_node(index: IgIndex, type_code: str) -> _Node | str:
    sd = index.core(type_code)
    return _Node(sd, type_code) if sd is not None else f"no core definition of {type_code}"


def _cap(code: str) -> str:
    return code[0].upper() + code[1:]


def _prohibited(profile: dict[str, Any], path: str) -> bool:
    return any(
        e.get("max") == "0" and e["path"] == path for e in profile["differential"]["element"]
    )
