"""Leak-test kit: resources of every profile with a unique marker in every element path.

Generated from the StructureDefinitions (the R4 base element trees and the guide's profiles, as
facade.privacy.elements reads them), not from a list of known carriers. Each profile's example
is the valid baseline (it satisfies the profile's patterns and invariants); the generator adds a
marker wherever the profile allows an element: every primitive (strings, codes, uris, ids,
numbers, dates), displays, versions, units, texts, identifiers under any name, element ids,
unknown extensions on every element (and on primitives, ``_x``), unknown modifier extensions,
meta tags and security labels with displays and versions, an unknown profile, a contained
resource with a name, telephone number and address, and an identity number written with spaces.
Choice elements get one type per variant (``variants(profile)`` of them), so every choice type is
exercised once.

``Oracle`` answers, from the view data alone (its own reading of mappings/views, not the
projector's compiled plan), whether a view declares a marker's element visible: every step of its
path must be ``keep`` (a date in a resource about no patient counts as kept).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import string
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from facade.fhir.naming import CANONICAL
from facade.privacy.elements import Catalogue, ElementDef, Profile
from facade.privacy.viewdata import ExtensionRules, Rule, Transform, ViewData
from facade.security.roles import View

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Codes for required bindings whose value sets are not enumerable offline.
_FIXED_CODES = {
    "http://hl7.org/fhir/ValueSet/mimetypes": ("urn:ietf:bcp:13", "text/plain"),
    "http://hl7.org/fhir/ValueSet/all-languages": ("urn:ietf:bcp:47", "zh-CN"),
    "http://hl7.org/fhir/ValueSet/languages": ("urn:ietf:bcp:47", "zh-CN"),
}
# Element codes a validator or an invariant needs to be one particular value.
_PREFERRED_CODES = {
    "Address.use": "work",
    "ContactPoint.use": "work",
    "ContactPoint.system": "phone",
}
# Where the generator's marker replaces the baseline's value when both exist.
_MARKER_WINS = frozenset({"display", "version", "unit", "id", "text"})
_UCUM = "http://unitsofmeasure.org"
_UCUM_CODE = {"Age": "a", "Duration": "d", "Distance": "m", "Count": "1", "Quantity": "mg"}


# -- markers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a marker's path: an element, an extension, a sub-extension or an extension value."""

    kind: str  # el | ext | sub | xval | prim | contained
    name: str  # JSON name, extension url or sub-extension url
    element: ElementDef | None = None
    at: str = ""  # resource-relative JSON path of an element step ("" inside extensions)


@dataclass(frozen=True)
class Marker:
    """A unique value written into one element path."""

    text: str  # how it appears in JSON (strings unquoted, numbers as written)
    numeric: bool
    path: str  # readable, e.g. Encounter.hospitalization.preAdmissionIdentifier.value
    steps: tuple[Step, ...]

    def found_in(self, text: str) -> bool:
        """Whether the marker occurs in a response body."""
        if self.numeric:
            return re.search(rf"(?<![0-9A-Za-z.]){re.escape(self.text)}(?![0-9])", text) is not None
        return self.text in text or _squeezed(self.text) in text


def _squeezed(value: str) -> str:
    return "".join(value.split())


@dataclass
class Marked:
    """One generated resource and the markers written into it."""

    profile: str
    variant: int
    resource: dict[str, Any]
    markers: list[Marker] = field(default_factory=list)


class MarkerFactory:
    """Unique values per type; a run salt keeps runs on one server apart."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.salt = "".join(rng.choice(string.ascii_lowercase) for _ in range(4))
        self.salt_digits = "".join(rng.choice(string.digits) for _ in range(3))
        self.n = 0
        self.day = date(1800, 1, 1)
        self.rng = rng

    def _next(self) -> int:
        self.n += 1
        return self.n

    def word(self) -> str:
        """A marker usable as string, code and id."""
        return f"mk{self.salt}{self._next():05d}z"

    def date(self) -> str:
        """Dates 101 days apart: a research shift (at most 50 days) never lands on another."""
        self.day += timedelta(days=101)
        self._next()
        return self.day.isoformat()

    def date_time(self) -> str:
        """A date-time whose time (seconds 00) never equals a ``time`` marker."""
        day = self.date()
        return f"{day}T{self.n % 24:02d}:{self.n % 59:02d}:00+08:00"

    def time(self) -> str:
        """A time of day with non-zero seconds."""
        n = self._next()
        return f"{n % 24:02d}:{(n // 24) % 60:02d}:{1 + n % 58:02d}"

    def decimal(self) -> str:
        """A decimal below 1 (valid as a probability)."""
        return f"0.9{self.salt_digits}{self._next():05d}"

    def integer(self) -> int:
        """A positive 9-digit integer."""
        return int(f"8{self.salt_digits}{self._next():05d}")

    def resident_id_with_spaces(self) -> str:
        """A valid identity number written in groups of four (the issue's leak through a unit)."""
        body = f"110105{self.rng.randint(1930, 2005)}{self.rng.randint(1, 12):02d}"
        body += f"{self.rng.randint(1, 28):02d}{self.rng.randint(0, 999):03d}"
        total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
        number = body + "10X98765432"[total % 11]
        return " ".join(number[i : i + 4] for i in range(0, 18, 4))


# -- value sets -----------------------------------------------------------------------------


class Codes:
    """One valid code of a required value set (the guide's, else the core package's)."""

    def __init__(self, catalogue: Catalogue, core_dir: Path) -> None:
        self.catalogue = catalogue
        self.core = core_dir / "package"
        self._cache: dict[str, tuple[str, str] | None] = {}

    def first(self, value_set: str) -> tuple[str, str] | None:
        """(system, code) of the value set's first code."""
        if value_set not in self._cache:
            self._cache[value_set] = _FIXED_CODES.get(value_set) or self._lookup(value_set)
        return self._cache[value_set]

    def _lookup(self, url: str) -> tuple[str, str] | None:
        vs = self.catalogue.value_sets.get(url) or self._core("ValueSet", url)
        if vs is None:
            return None
        for include in vs.get("compose", {}).get("include", []):
            system = include.get("system")
            if include.get("concept"):
                return system, include["concept"][0]["code"]
            if system:
                codes = self.catalogue.displays.get(system)
                if codes:
                    return system, sorted(codes)[0]
                cs = self._core("CodeSystem", system)
                if cs and cs.get("concept"):
                    return system, cs["concept"][0]["code"]
        return None

    def _core(self, kind: str, url: str) -> dict[str, Any] | None:
        name = url.rsplit("/", 1)[-1]
        path = self.core / f"{kind}-{name}.json"
        if path.is_file():
            found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if found.get("url") == url:
                return found
        return None


# -- generator ------------------------------------------------------------------------------

LITERAL_TARGETS = ("Patient", "Encounter", "Organization")
MAX_COMPLEX_DEPTH = 5


class Generator:
    """Marked resources of the guide's profiles."""

    def __init__(
        self,
        catalogue: Catalogue,
        codes: Codes,
        factory: MarkerFactory,
        references: dict[str, str],
        *,
        unknown_profile: bool = True,
    ) -> None:
        """``references``: target type -> literal reference (Patient/Encounter/Organization).

        ``unknown_profile`` adds a marker profile to meta.profile; HAPI 8.8 refuses to store a
        resource that declares one beside ours, so the live test leaves it out.
        """
        self.unknown_profile = unknown_profile
        self.catalogue = catalogue
        self.codes = codes
        self.f = factory
        self.references = references
        # JSON name of a choice type -> its choice (valueQuantity -> value), to merge choices
        self.stems = {
            name: element.name[:-3]
            for entry in catalogue.types.values()
            for element in entry.elements
            if element.choice
            for name, _ in element.json_names()
        }

    def variants(self, profile: Profile) -> int:
        """How many resources exercise every type of the profile's single-valued choices."""
        most = 1
        for element in self.catalogue.types[profile.type].elements:
            if element.choice and not element.many and profile.allows(element.path):
                allowed = profile.choices.get(element.path) or element.types
                parent = element.path.rpartition(".")[0]
                if not (parent and _repeats(self.catalogue, profile.type, parent)):
                    most = max(most, len(allowed))
        return most

    def generate(self, profile: Profile, baseline: dict[str, Any], variant: int) -> Marked:
        """A resource of ``profile``: ``baseline`` plus markers everywhere else."""
        run = _Run(self, profile, variant)
        generated = run.resource()
        merged = _merge(copy.deepcopy(baseline), generated, _Merge(profile, self.stems))
        merged.pop("id", None)
        _satisfy_invariants(merged, self.catalogue)
        kept = json.dumps(merged, ensure_ascii=False)
        # markers the example's own values displaced (a choice it fills with another type)
        markers = [m for m in run.markers if m.found_in(kept)]
        return Marked(profile.id, variant, merged, markers)


# The guide's item codes belong to the scale the method names (vte-ra-1, vte-bra-1).
_ITEM_SCALES = {
    "vte-risk-tool": ("vte-risk-factor", {"1": "C", "2": "P"}),
    "bleeding-risk-tool": ("bleeding-risk-factor", {"1": "M", "2": "S"}),
}


def _satisfy_invariants(resource: dict[str, Any], catalogue: Catalogue) -> None:
    """Keep the invariants that tie several elements together true after markers were added.

    Core: con-4 (an abated condition is not active), obs-6 (no dataAbsentReason beside a
    value). The guide: vte-ra-1 / vte-bra-1 (assessment items come from the method's scale).
    """
    rtype = resource["resourceType"]
    if rtype == "Condition" and any(k.startswith("abatement") for k in resource):
        system = "http://terminology.hl7.org/CodeSystem/condition-clinical"
        resource["clinicalStatus"] = {"coding": [{"system": system, "code": "resolved"}]}
    if rtype == "Observation":
        for part in [resource, *resource.get("component", [])]:
            if any(k.startswith("value") for k in part):
                part.pop("dataAbsentReason", None)
    if rtype == "RiskAssessment":
        method = (resource.get("method") or {}).get("coding") or [{}]
        tool = str(method[0].get("system", "")).rsplit("/", 1)[-1]
        scale = _ITEM_SCALES.get(tool)
        if scale is None:
            return
        system = f"{CANONICAL}/CodeSystem/{scale[0]}"
        prefix = scale[1].get(str(method[0].get("code")), "")
        code = next(c for c in sorted(catalogue.displays[system]) if c.startswith(prefix))
        for ext in resource.get("extension", []):
            for sub in (
                ext.get("extension", []) if ext.get("url", "").endswith("/assessment-item") else []
            ):
                if sub.get("url") == "item":
                    sub["valueCoding"].update(system=system, code=code)


def _repeats(catalogue: Catalogue, owner: str, path: str) -> bool:
    parts = path.split(".")
    by_path = {e.path: e for e in catalogue.types[owner].elements}
    return any(
        (e := by_path.get(".".join(parts[: i + 1]))) is not None and e.many
        for i in range(len(parts))
    )


class _Run:
    """One generated resource."""

    def __init__(self, gen: Generator, profile: Profile, variant: int) -> None:
        self.g = gen
        self.c = gen.catalogue
        self.f = gen.f
        self.profile = profile
        self.variant = variant
        self.rtype = profile.type
        self.markers: list[Marker] = []
        self.container: str | None = None  # type of the contained resource, once referenced
        self.spaced_id_done = False
        self.primitive_seen: set[str] = set()
        self.element_id = next(e for e in self.c.children("Element") if e.name == "id")
        self.value_x = next(e for e in self.c.children("Extension") if e.name == "value[x]")

    def mark(self, value: Any, steps: list[Step], numeric: bool = False) -> Any:
        text = json.dumps(value) if numeric else str(value)
        names = [_step_name(s) for s in steps]
        self.markers.append(Marker(text, numeric, ".".join([self.rtype, *names]), tuple(steps)))
        return value

    def remark(self, old: str, new: str) -> str:
        """Replace a marker's value (same path)."""
        for i, marker in enumerate(self.markers):
            if marker.text == old:
                self.markers[i] = Marker(new, False, marker.path, marker.steps)
        return new

    def resource(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": self.rtype}
        out.update(self.children(self.rtype, "", [], 0))
        if self.container is not None:
            step = Step("el", "contained", self._element(self.rtype, "contained"), "contained")
            out["contained"] = [self.contained([step])]
        return out

    def _element(self, owner: str, path: str) -> ElementDef:
        return next(e for e in self.c.types[owner].elements if e.path == path)

    def children(
        self,
        owner: str,
        parent: str,
        steps: list[Step],
        depth: int,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Every child element of ``owner``'s ``parent`` the profile allows, with markers."""
        out: dict[str, Any] = {}
        in_resource = all(s.kind == "el" for s in steps)
        resource_level = owner == self.rtype and in_resource
        on_path = {
            s.element.types[0] for s in steps if s.kind == "el" and s.element and s.element.types
        }
        for element in self.c.children(owner, parent):
            if element.name in skip:
                continue
            if resource_level and not self.profile.allows(element.path):
                continue
            allowed = self.profile.choices.get(element.path) if resource_level else None
            names = element.json_names(allowed)
            if element.choice and names:
                names = [names[self.variant % len(names)]]
            for json_name, type_code in names:
                at = _at(steps, json_name) if in_resource else ""
                here = [*steps, Step("el", json_name, element, at)]
                value = self.element(element, type_code, here, depth, on_path)
                if value is None:
                    continue
                out[json_name] = [value] if element.many and not isinstance(value, list) else value
                if self._primitive_extension(element, type_code, in_resource):
                    out["_" + json_name] = self.primitive_element(element, here)
        return out

    def _primitive_extension(self, element: ElementDef, type_code: str, in_resource: bool) -> bool:
        """``_name`` beside every primitive of the resource's own elements, and beside the first
        of each data-type element (they all follow the same Element rules; more only slows HAPI)."""
        if not self.c.is_primitive(type_code) or element.base in _NO_PRIMITIVE_EXT:
            return False
        if element.owner == self.rtype and in_resource:
            return True
        first = element.full not in self.primitive_seen
        self.primitive_seen.add(element.full)
        return first

    def element(
        self, element: ElementDef, type_code: str, steps: list[Step], depth: int, on_path: set[str]
    ) -> Any:
        base = element.base
        if base in ("Resource.id", "DomainResource.contained", "Extension.url"):
            return None  # ids are the server's; contained is added once something refers to it
        if base == "Resource.meta":
            return self.meta(steps)
        if base in ("Element.extension", "DomainResource.extension", "Extension.extension"):
            return self.extensions(steps, depth)
        if base in ("DomainResource.modifierExtension", "BackboneElement.modifierExtension"):
            return [self.unknown_extension(steps)]
        if self.c.is_primitive(type_code):
            return self.primitive(element, type_code, steps)
        if type_code == "Resource":
            return None
        if type_code == "Narrative":
            div = self.mark(self.f.word(), [*steps, Step("el", "div")])
            return {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>',
            }
        if depth >= MAX_COMPLEX_DEPTH or (not element.backbone and type_code in on_path):
            return None
        owner, parent = self.c.element_children(element, type_code)
        if type_code == "Reference":
            return self.reference(element, steps, depth)
        if type_code in _UCUM_CODE:
            simple = "SimpleQuantity" in element.profiles or element.full.startswith("Range.")
            skip = {"system", "code", "comparator"} if simple else {"system", "code"}
            if element.full.startswith("Range."):
                skip.add("unit")  # rng-2 compares low and high only when their units agree
            value = self.children(owner, parent, steps, depth + 1, frozenset(skip))
            value.update(system=_UCUM, code=_UCUM_CODE[type_code])
            if type_code == "Count":
                value["value"] = 3
            if "unit" in value and not self.spaced_id_done:
                # an identity number in groups of four passes the intake's free-text scan
                self.spaced_id_done = True
                value["unit"] = self.remark(value["unit"], self.f.resident_id_with_spaces())
            return value
        binding = self._binding(element, steps)
        if type_code in ("Coding", "CodeableConcept") and binding and binding[0] == "required":
            return self.bound(type_code, binding[1], steps, depth)
        return self.children(owner, parent, steps, depth + 1) or None

    # -- primitives

    def primitive(self, element: ElementDef, type_code: str, steps: list[Step]) -> Any:
        binding = self._binding(element, steps)
        if element.full in _PREFERRED_CODES:
            return _PREFERRED_CODES[element.full]
        if type_code == "code" and binding and binding[0] == "required":
            found = self.g.codes.first(binding[1])
            return found[1] if found else None
        if type_code == "boolean":
            return True
        if type_code in ("string", "markdown", "code", "id"):
            return self.mark(self.f.word(), steps)
        if type_code in ("uri", "url", "canonical"):
            return self.mark(f"urn:{self.f.word()}", steps)
        if type_code == "uuid":
            return self.mark(f"urn:uuid:{uuid.UUID(int=self.f.rng.getrandbits(128))}", steps)
        if type_code == "oid":
            return self.mark(f"urn:oid:2.25.{self.f.integer()}", steps)
        if type_code == "base64Binary":
            return self.mark(base64.b64encode(self.f.word().encode()).decode(), steps)
        if type_code == "date":
            return self.mark(self.f.date(), steps)
        if type_code in ("dateTime", "instant"):
            return self.mark(self.f.date_time(), steps)
        if type_code == "time":
            return self.mark(self.f.time(), steps)
        if type_code == "decimal":
            return self.mark(float(self.f.decimal()), steps, numeric=True)
        if type_code in ("integer", "positiveInt", "unsignedInt"):
            return self.mark(self.f.integer(), steps, numeric=True)
        return None

    def _binding(self, element: ElementDef, steps: list[Step]) -> tuple[str, str] | None:
        at = steps[-1].at if steps else ""
        keys = [at]
        if element.choice and at:
            keys.append(at[: -len(steps[-1].name)] + element.name)
        for key in keys:
            if key in self.profile.bindings:
                return self.profile.bindings[key]
        return element.binding

    def primitive_element(self, element: ElementDef, steps: list[Step]) -> Any:
        """``_name``: an id and an unknown extension on the primitive."""
        here = [*steps, Step("prim", element.name)]
        item = {
            "id": self.mark(self.f.word(), [*here, Step("el", "id", self.element_id)]),
            "extension": [self.unknown_extension(here)],
        }
        return [item] if element.many else item

    # -- complex types with rules of their own

    def bound(self, type_code: str, value_set: str, steps: list[Step], depth: int) -> Any:
        """A Coding (or CodeableConcept) of a required value set, with markers beside the code."""
        found = self.g.codes.first(value_set)
        if found is None:
            return None
        if type_code == "Coding":
            coding = self.children("Coding", "", steps, depth + 1, frozenset({"system", "code"}))
            return {**coding, "system": found[0], "code": found[1]}
        concept = self.children("CodeableConcept", "", steps, depth + 1, frozenset({"coding"}))
        coding_el = self._element("CodeableConcept", "coding")
        here = [*steps, Step("el", "coding", coding_el, _at(steps, "coding"))]
        coding = self.children("Coding", "", here, depth + 2, frozenset({"system", "code"}))
        concept["coding"] = [{**coding, "system": found[0], "code": found[1]}]
        return concept

    def reference(self, element: ElementDef, steps: list[Step], depth: int) -> dict[str, Any]:
        """A logical reference (identifier, display) and, where it may, a literal one."""
        value = self.children("Reference", "", steps, depth + 1, frozenset({"reference", "type"}))
        if not all(s.kind == "el" for s in steps):
            return value
        targets = set(element.targets)
        container = next((k for k in ("Organization", "Practitioner") if k in targets), None)
        if container and self.container is None:
            self.container = container
            value["reference"] = "#c1"
            return value
        for target in LITERAL_TARGETS:
            if target in targets and target in self.g.references:
                value["reference"] = self.g.references[target]
                break
        return value

    def contained(self, steps: list[Step]) -> dict[str, Any]:
        """The contained resource: a name, a telephone number and an address line."""
        here = [*steps, Step("contained", "contained")]
        name, phone, line = (self.mark(self.f.word(), here) for _ in range(3))
        out: dict[str, Any] = {"resourceType": self.container, "id": "c1"}
        out["name"] = name if self.container == "Organization" else [{"text": name}]
        out["telecom"] = [{"system": "phone", "value": phone}]
        out["address"] = [{"line": [line], "use": "work"}]
        return out

    def meta(self, steps: list[Step]) -> dict[str, Any]:
        """A source, an unknown profile, and a tag and a security label full of markers."""
        out: dict[str, Any] = {}
        for name in ("source", "profile", "tag", "security"):
            element = self._element("Meta", name)
            here = [*steps, Step("el", name, element, f"meta.{name}")]
            if name == "source":
                out[name] = self.mark(f"urn:{self.f.word()}", here)
            elif name == "profile":
                if self.g.unknown_profile:
                    out[name] = [self.mark(f"urn:{self.f.word()}", here)]
            else:
                out[name] = [self.children("Coding", "", here, 2, frozenset({"userSelected"}))]
        return out

    def extensions(self, steps: list[Step], depth: int) -> list[Any]:
        """An unknown extension, plus the guide's extensions the profile declares here."""
        items = [self.unknown_extension(steps)]
        if all(s.kind == "el" for s in steps):
            for url in self.profile.extensions.get(steps[-1].at, ()):
                if url in self.c.extensions:
                    items.append(self.declared_extension(url, steps, depth))
        return items

    def unknown_extension(self, steps: list[Step]) -> dict[str, Any]:
        url = f"urn:{self.f.word()}"
        here = [*steps, Step("ext", url)]
        self.mark(url, here)
        value = self.mark(self.f.word(), [*here, Step("xval", "valueString")])
        return {"url": url, "valueString": value}

    def declared_extension(self, url: str, steps: list[Step], depth: int) -> dict[str, Any]:
        ext = self.c.extensions[url]
        here = [*steps, Step("ext", url)]
        out: dict[str, Any] = {
            "url": url,
            "id": self.mark(self.f.word(), [*here, Step("el", "id", self.element_id)]),
        }
        if ext.subs:
            out["extension"] = []
            for sub_url, types in ext.subs.items():
                sub_steps = [*here, Step("sub", sub_url)]
                value = self.extension_value(types[0], sub_steps, depth, ext.bindings.get(sub_url))
                out["extension"].append({"url": sub_url, **value})
        else:
            out.update(self.extension_value(ext.value_types[0], here, depth, ext.bindings.get("")))
        return out

    def extension_value(
        self, type_code: str, steps: list[Step], depth: int, binding: tuple[str, str] | None
    ) -> dict[str, Any]:
        json_name = self.value_x.json_names((type_code,))[0][0]
        here = [*steps, Step("xval", json_name)]
        if self.c.is_primitive(type_code):
            value = self.primitive(self.value_x, type_code, here)
        elif binding and binding[0] == "required" and type_code in ("Coding", "CodeableConcept"):
            value = self.bound(type_code, binding[1], here, depth + 1)
        else:
            value = self.children(type_code, "", here, depth + 1) or None
        return {json_name: value} if value is not None else {}


# Primitives whose ``_name`` carries nothing a view could show (ids, urls, the narrative).
_NO_PRIMITIVE_EXT = frozenset({"Element.id", "Extension.url", "Resource.id", "Narrative.div"})


def _step_name(step: Step) -> str:
    if step.kind == "el":
        return step.name
    if step.kind == "ext":
        return (
            "<unknown-extension>"
            if step.name.startswith("urn:")
            else f"<{step.name.rsplit('/', 1)[-1]}>"
        )
    return f"<{step.name}>"


def _at(steps: list[Step], json_name: str) -> str:
    parent = steps[-1].at if steps and steps[-1].kind == "el" else ""
    return f"{parent}.{json_name}" if parent else json_name


@dataclass(frozen=True)
class _Merge:
    profile: Profile
    stems: dict[str, str]


def _merge(base: Any, extra: Any, how: _Merge, at: str = "") -> Any:
    """``base`` (the valid example) with ``extra`` (the markers) added wherever there is room."""
    if isinstance(base, dict) and isinstance(extra, dict):
        period = "start" in base or "end" in base  # the example's period stays in order (per-1)
        for key, value in extra.items():
            if period and key.lstrip("_") in ("start", "end"):
                continue
            if key not in base:
                if not _choice_taken(base, key, how.stems):
                    base[key] = value
            elif key in _MARKER_WINS and not isinstance(value, dict | list):
                base[key] = value
            else:
                base[key] = _merge(base[key], value, how, f"{at}.{key}" if at else key)
        return base
    if isinstance(base, list) and isinstance(extra, list):
        # extensions by url, codings by system: markers join the example's own (its codes and
        # slices satisfy the profile) instead of adding a second, conflicting one
        same = "url" if at.endswith("extension") else "system" if at.endswith("coding") else None
        if same is not None:
            by_key = {e.get(same): e for e in base if isinstance(e, dict)}
            for item in extra:
                if isinstance(item, dict) and item.get(same) in by_key:
                    _merge(by_key[item[same]], item, how, at)
                else:
                    base.append(item)
            return base
        if how.profile.maxes.get(at) == "1" and base and extra:
            base[0] = _merge(base[0], extra[0], how, at)
            return base
        return base + extra
    return base  # both primitives: the example's value stays (it satisfies the profile)


def _choice_taken(base: dict[str, Any], key: str, stems: dict[str, str]) -> bool:
    """Whether ``base`` already holds another type of the choice ``key`` belongs to."""
    stem = stems.get(key.lstrip("_"))
    if stem is None:
        return False
    return any(stems.get(k.lstrip("_")) == stem and k.lstrip("_") != key.lstrip("_") for k in base)


def base_profile(catalogue: Catalogue, resource_type: str) -> Profile:
    """A stand-in profile for a viewed type the guide does not profile (Measure): the base."""
    return Profile(
        url="",
        id=f"{resource_type} (base)",
        type=resource_type,
        prohibited=frozenset(),
        choices={},
        extensions={},
        bindings={},
        constrained=frozenset(),
        maxes={},
    )


# -- the oracle -------------------------------------------------------------------------------


class Oracle:
    """Whether a view declares a marker visible, read straight from the view data."""

    def __init__(self, data: ViewData) -> None:
        self.data = data
        self.by_url = {
            f"{CANONICAL}/StructureDefinition/{ext_id}": rules
            for ext_id, rules in data.extensions.extensions.items()
        }

    def visible(self, view: View, rtype: str, marker: Marker) -> bool:
        """True when every step of the marker's path is kept by ``view``."""
        linked = self.data.resources[rtype].patient != "none"
        ext: ExtensionRules | None = None
        values: dict[str, Rule] | None = None
        steps = marker.steps
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if step.kind == "prim":
                continue
            if step.kind == "ext":
                ext = self.by_url.get(step.name)
                if ext is None:
                    return False
                values = ext.values
                continue
            if step.kind == "sub":
                values = ext.subs.get(step.name) if ext else None
                if values is None:
                    return False
                continue
            if step.kind == "xval":
                rule = (values or {}).get(step.name)
                if rule is None or not self._kept(rule.of(view), last, linked):
                    return False
                continue
            if step.kind == "contained":
                return False
            rule = self.rule(rtype, step)
            if rule is None:
                return False
            transform = rule.of(view)
            if transform is Transform.DECLARED_EXTENSIONS and not last:
                continue
            if not self._kept(transform, last, linked):
                return False
        return True

    @staticmethod
    def _kept(transform: Transform, last: bool, linked: bool) -> bool:
        if transform is Transform.KEEP:
            return True
        return transform is Transform.DATE_SHIFT and last and not linked

    def rule(self, rtype: str, step: Step) -> Rule | None:
        """The rule of one element step: resource file first, then data types, then the base."""
        element = step.element
        if element is None:
            return None
        own = self.data.resources[rtype].elements
        if step.at:
            candidates = [step.at]
            if element.choice:
                candidates.append(step.at[: -len(step.name)] + element.name)
            if element.owner == rtype:
                parent = element.path.rpartition(".")[0]
                candidates.append(f"{parent}.{step.name}" if parent else step.name)
                candidates.append(element.path)
            for key in candidates:
                if key in own:
                    return own[key]
        types = self.data.datatypes.types
        owner_rules = types.get(element.owner, {})
        for key in (step.name, element.path):
            if key in owner_rules:
                return owner_rules[key]
        base_owner, _, base_key = element.base.partition(".")
        return types.get(base_owner, {}).get(base_key)
