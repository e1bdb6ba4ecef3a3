"""The FHIR element trees the role views classify: R4 base definitions plus the guide's profiles and extensions.

Base resources and data types come from ``profiles/r4-core-extract.json`` (extracted from the R4
core package, see facade/ig/core_extract.py); profiles, extensions and CodeSystems from the
guide's generated StructureDefinitions in ``profiles/fsh-generated/resources``. Everything here is
plain data read once at start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from facade.errors import ConfigurationError
from facade.ig.core_extract import EXTRACT_NAME, concept_displays

BACKBONE_TYPES = frozenset({"BackboneElement", "Element"})


def choice_name(name: str, type_code: str) -> str:
    """The JSON name of one type of a choice element: ``value[x]`` + ``dateTime`` -> ``valueDateTime``."""
    return name[:-3] + type_code[:1].upper() + type_code[1:]


@dataclass(frozen=True)
class ElementDef:
    """One element of a type: where it is defined, its types and cardinality."""

    owner: str  # the type (resource or data type) defining it
    path: str  # relative to the owner: "hospitalization.preAdmissionIdentifier"
    types: tuple[str, ...]
    many: bool
    min: int
    base: str  # where the element is first defined: "Element.id", or its own full path
    binding: tuple[str, str] | None = None  # (strength, value set url)
    targets: tuple[str, ...] = ()  # Reference target types
    ref: str | None = None  # content reference: children are those of this owner path
    profiles: tuple[str, ...] = ()  # type constraints, e.g. SimpleQuantity

    @property
    def name(self) -> str:
        """The element's own name (last step of the path, ``[x]`` kept)."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def full(self) -> str:
        """The definition path, e.g. ``Identifier.value`` or ``Encounter.hospitalization``."""
        return f"{self.owner}.{self.path}"

    @property
    def choice(self) -> bool:
        """Whether this is a choice element (``value[x]``)."""
        return self.path.endswith("[x]")

    @property
    def backbone(self) -> bool:
        """Whether its children are defined inline (BackboneElement) or by content reference."""
        return self.ref is not None or (len(self.types) == 1 and self.types[0] in BACKBONE_TYPES)

    def json_names(self, allowed: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
        """(JSON name, type) pairs; a choice gives one per type (``allowed`` restricts them)."""
        if not self.choice:
            return [(self.name, self.types[0] if self.types else "")]
        return [
            (choice_name(self.name, t), t) for t in self.types if allowed is None or t in allowed
        ]


@dataclass(frozen=True)
class TypeDef:
    """A resource or data type of the base specification."""

    name: str
    kind: str  # resource, complex-type
    base: str | None
    elements: tuple[ElementDef, ...]

    @cached_property
    def children(self) -> dict[str, list[ElementDef]]:
        """Owner-relative parent path ("" for the type itself) -> its direct child elements."""
        out: dict[str, list[ElementDef]] = {}
        for element in self.elements:
            parent = element.path.rpartition(".")[0]
            out.setdefault(parent, []).append(element)
        return out


@dataclass(frozen=True)
class ExtensionDef:
    """One of the guide's extensions: its value types, or its sub-extensions (complex)."""

    url: str
    id: str
    value_types: tuple[str, ...]
    subs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # sub-url -> value types
    contexts: tuple[str, ...] = ()
    # value[x] bindings: "" for the extension's own value, else the sub-extension url
    bindings: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """A resource profile of the guide, as far as views care: what it removes, narrows and adds."""

    url: str
    id: str
    type: str
    prohibited: frozenset[str]  # owner-relative paths with max 0 (choices as ``value[x]``)
    choices: dict[str, tuple[str, ...]]  # choice path -> allowed types
    extensions: dict[str, tuple[str, ...]]  # path of an ``extension`` element -> extension urls
    bindings: dict[str, tuple[str, str]]  # path -> (strength, value set) set by the profile
    constrained: frozenset[str]  # paths with a fixed value or pattern
    maxes: dict[str, str]  # path -> the profile's max cardinality, where it sets one

    def allows(self, path: str) -> bool:
        """Whether an element path (or one of its ancestors) is not prohibited."""
        parts = path.split(".")
        return not any(".".join(parts[: i + 1]) in self.prohibited for i in range(len(parts)))


@dataclass(frozen=True)
class Catalogue:
    """Base types, the guide's profiles and extensions, and code displays, loaded once."""

    types: dict[str, TypeDef]
    primitives: frozenset[str]
    profiles: dict[str, Profile]
    extensions: dict[str, ExtensionDef]
    displays: dict[str, dict[str, str]]  # code system url -> code -> display
    value_sets: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, profiles_dir: Path) -> Catalogue:
        """Read the core extract and the guide's generated resources under ``profiles_dir``."""
        extract_path = profiles_dir / EXTRACT_NAME
        try:
            extract = json.loads(extract_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{extract_path}: cannot read the R4 core extract ({exc}); "
                "run `vte-facade ig render-views`"
            ) from exc
        types = {name: _type_def(name, entry) for name, entry in extract["types"].items()}
        displays: dict[str, dict[str, str]] = {
            url: dict(codes) for url, codes in extract["code_systems"].items()
        }
        profiles: dict[str, Profile] = {}
        extensions: dict[str, ExtensionDef] = {}
        value_sets: dict[str, dict[str, Any]] = {}
        resources_dir = profiles_dir / "fsh-generated" / "resources"
        for path in sorted(resources_dir.glob("*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            kind = resource.get("resourceType")
            if kind == "CodeSystem":
                displays[resource["url"]] = concept_displays(resource.get("concept", []))
            elif kind == "ValueSet":
                value_sets[resource["url"]] = resource
            elif kind == "StructureDefinition" and resource.get("type") == "Extension":
                extensions[resource["url"]] = _extension_def(resource)
            elif kind == "StructureDefinition" and resource.get("kind") == "resource":
                if resource["type"] not in types:
                    raise ConfigurationError(
                        f"{path}: profile of {resource['type']}, which {EXTRACT_NAME} lacks; "
                        "run `vte-facade ig render-views`"
                    )
                profiles[resource["url"]] = _profile(resource)
        return cls(
            types, frozenset(extract["primitives"]), profiles, extensions, displays, value_sets
        )

    def type_of(self, name: str) -> TypeDef:
        """A base type by name."""
        return self.types[name]

    def is_primitive(self, type_code: str) -> bool:
        """Whether a type code names a primitive type."""
        return type_code in self.primitives

    def children(self, owner: str, parent: str = "") -> list[ElementDef]:
        """The child elements of a type (``parent`` "") or of one of its backbone elements."""
        return self.types[owner].children.get(parent, [])

    def element_children(self, element: ElementDef, type_code: str) -> tuple[str, str]:
        """(owner, parent path) whose children are the children of ``element`` as ``type_code``."""
        if element.ref is not None:
            return element.owner, element.ref
        if element.backbone:
            return element.owner, element.path
        return type_code, ""

    def profiles_of(self, resource_type: str) -> list[Profile]:
        """The guide's profiles of a resource type."""
        return [p for p in self.profiles.values() if p.type == resource_type]

    def extension_by_id(self, ext_id: str) -> ExtensionDef | None:
        """One of the guide's extensions by StructureDefinition id."""
        return next((e for e in self.extensions.values() if e.id == ext_id), None)


def _type_def(name: str, entry: dict[str, Any]) -> TypeDef:
    elements = tuple(
        ElementDef(
            owner=name,
            path=row["path"],
            types=tuple(row.get("types", [])),
            many=row["max"] != "1",
            min=int(row["min"]),
            base=row.get("base", f"{name}.{row['path']}"),
            binding=(row["binding"][0], row["binding"][1]) if "binding" in row else None,
            targets=tuple(row.get("targets", [])),
            ref=row.get("ref"),
            profiles=tuple(row.get("profiles", [])),
        )
        for row in entry["elements"]
    )
    return TypeDef(name, entry["kind"], entry.get("base"), elements)


def _relative(element: dict[str, Any], type_name: str) -> str:
    """Owner-relative path of a differential element (``Encounter.period.start`` -> ``period.start``)."""
    path = str(element["path"])
    return "" if path == type_name else path[len(type_name) + 1 :]


def _profile(sd: dict[str, Any]) -> Profile:
    type_name = sd["type"]
    prohibited: set[str] = set()
    choices: dict[str, tuple[str, ...]] = {}
    extensions: dict[str, list[str]] = {}
    bindings: dict[str, tuple[str, str]] = {}
    constrained: set[str] = set()
    maxes: dict[str, str] = {}
    for element in sd["differential"]["element"]:
        path = _relative(element, type_name)
        types = element.get("type", [])
        if "max" in element and not element.get("sliceName"):
            maxes[path] = str(element["max"])
        if element.get("max") == "0" and not element.get("sliceName"):
            prohibited.add(path)
        if element.get("sliceName") and path.split(".")[-1] == "extension":
            for t in types:
                extensions.setdefault(path, []).extend(t.get("profile", []))
            continue
        if path.endswith("[x]") and types:
            choices[path] = tuple(t["code"] for t in types)
        binding = element.get("binding") or {}
        if binding.get("valueSet"):
            bindings[path] = (binding["strength"], binding["valueSet"].split("|")[0])
        if any(k.startswith(("pattern", "fixed")) for k in element):
            constrained.add(path)
    return Profile(
        url=sd["url"],
        id=sd["id"],
        type=type_name,
        prohibited=frozenset(prohibited),
        choices=choices,
        extensions={k: tuple(v) for k, v in extensions.items()},
        bindings=bindings,
        constrained=frozenset(constrained),
        maxes=maxes,
    )


def _extension_def(sd: dict[str, Any]) -> ExtensionDef:
    value_types: tuple[str, ...] = ()
    subs: dict[str, tuple[str, ...]] = {}
    slice_urls: dict[str, str] = {}
    bindings: dict[str, tuple[str, str]] = {}
    for element in sd["differential"]["element"]:
        eid = str(element["id"])
        types = tuple(t["code"] for t in element.get("type", []))
        binding = element.get("binding") or {}
        if binding.get("valueSet") and eid.endswith("value[x]"):
            where = "" if eid == "Extension.value[x]" else eid.split(":")[1].split(".")[0]
            bindings[where] = (binding["strength"], binding["valueSet"].split("|")[0])
        if eid == "Extension.value[x]" and element.get("max") != "0":
            value_types = types
        elif eid.startswith("Extension.extension:") and eid.endswith(".url"):
            slice_urls[eid.split(":")[1].split(".")[0]] = str(element.get("fixedUri"))
        elif eid.startswith("Extension.extension:") and eid.endswith(".value[x]"):
            subs[eid.split(":")[1].split(".")[0]] = types
    return ExtensionDef(
        url=sd["url"],
        id=sd["id"],
        value_types=value_types,
        subs={slice_urls.get(name, name): types for name, types in subs.items()},
        contexts=tuple(str(c.get("expression")) for c in sd.get("context", [])),
        bindings={slice_urls.get(k, k) if k else k: v for k, v in bindings.items()},
    )
