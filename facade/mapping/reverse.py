"""FHIR resources → native record: the dictionary read backwards.

Given the resources one record became (from a plan or read back from HAPI), every forwarded field
is read from its first target that holds a value; targets written through a ConceptMap are read
only when no untranslated target exists, and then through the map's unique inverse. The result is
the prepared payload the resources were built from, with two deliberate exceptions:

* an ``identity-number`` field comes back as the regional pseudonym (the number is never stored);
* a value a ``defaults`` entry copied into a resource (the order time standing in for the start of
  a drug not given) comes back as the field that path belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from facade.dictionary.models import Field, RecordType, ResourceSpec
from facade.dictionary.paths import resolve
from facade.fhir.naming import profile_url
from facade.mapping import pathset, values
from facade.mapping.engine import MappingEngine
from facade.mapping.pathset import Json, MappingError


def record_from_fhir(
    engine: MappingEngine, rt: RecordType, resources: Sequence[Json], org_code: str
) -> dict[str, Any]:
    """The native record the resources of one record stand for."""
    return _Reader(engine, rt, resources, org_code).run()


class _Reader:
    def __init__(
        self, engine: MappingEngine, rt: RecordType, resources: Sequence[Json], org_code: str
    ) -> None:
        self.e = engine
        self.rt = rt
        self.org = org_code
        self.by_alias = _classify(rt, resources)

    def resolve(self, text: str) -> str:
        return resolve(text, record_type=self.rt.record_type, org_code=self.org)

    def run(self) -> dict[str, Any]:
        single = {
            alias: found[0]
            for alias, found in self.by_alias.items()
            if found and not self.rt.resource(alias).per_item_of
        }
        record: dict[str, Any] = {}
        for field in self.rt.fields:
            value = self.read(
                field,
                lambda alias: (
                    [(single[alias], self.rt.resource(alias).type)] if alias in single else []
                ),
            )
            if value is not None:
                record[field.name] = value
        for group in self.rt.groups:
            items = self.group_items(group.name, group.maps_to, group.resource, group.path, single)
            if items:
                record[group.name] = [
                    self.item(group.fields, node, type_name) for node, type_name in items
                ]
        return record

    def group_items(
        self, name: str, maps_to: str, alias: str, path: str | None, single: Mapping[str, Json]
    ) -> list[tuple[Json, str]]:
        spec = self.rt.resource(alias)
        if maps_to == "resources":
            ordered = sorted(self.by_alias.get(alias, []), key=lambda r: self.item_number(spec, r))
            return [(resource, spec.type) for resource in ordered]
        owner = single.get(alias)
        if owner is None:
            return []
        elements, element_type = pathset.get_all(
            owner, spec.type, pathset.steps_of(path or ""), self.resolve
        )
        return [(element, element_type) for element in elements]

    def item_number(self, spec: ResourceSpec, resource: Json) -> int:
        key = pathset.get(resource, spec.type, pathset.steps_of(spec.key), self.resolve)
        try:
            return int(str(key).rsplit("/", 1)[1])
        except (IndexError, ValueError) as exc:
            raise MappingError(f"{spec.alias}: key {key!r} is not <recordId>/<group>/<n>") from exc

    def item(self, fields: list[Field], node: Json, type_name: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field in fields:
            value = self.read(field, lambda _alias: [(node, type_name)])
            if value is not None:
                found[field.name] = value
        return found

    def read(self, field: Field, nodes: Any) -> Any:
        if not field.forwarded:
            return None
        ordered = sorted(field.fhir, key=lambda t: t.concept_map is not None)
        for target in ordered:
            for alias in self.rt.target_aliases(target.resource):
                for node, type_name in nodes(alias):
                    raw = pathset.get(node, type_name, pathset.steps_of(target.path), self.resolve)
                    if raw is None:
                        continue
                    if target.concept_map:
                        source = self.e.terminology.table(target.concept_map).reverse(str(raw))
                        if source is not None:
                            return source
                        continue
                    value = values.from_fhir(field.type, raw, self.e.zone)
                    if value is not None:
                        return value
        return None


def _classify(rt: RecordType, resources: Sequence[Json]) -> dict[str, list[Json]]:
    """Resources by the alias they play, from ``meta.profile`` (or the type when it is unambiguous)."""
    by_profile = {profile_url(s.profile): s.alias for s in rt.resources}
    by_type: dict[str, list[str]] = {}
    for spec in rt.resources:
        by_type.setdefault(spec.type, []).append(spec.alias)
    found: dict[str, list[Json]] = {}
    for resource in resources:
        profiles = (resource.get("meta") or {}).get("profile") or []
        alias = next((by_profile[p] for p in profiles if p in by_profile), None)
        if alias is None:
            candidates = by_type.get(str(resource.get("resourceType")), [])
            alias = candidates[0] if len(candidates) == 1 else None
        if alias is not None:
            found.setdefault(alias, []).append(resource)
    return found
