"""One run of the native → FHIR mapping: build, fill, key and link a record's resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from facade.dictionary.models import Field, Group, RecordType, Reference, ResourceSpec, Target
from facade.dictionary.paths import resolve
from facade.fhir.naming import REPORTING_ORG_TAG, profile_url
from facade.mapping import pathset, values
from facade.mapping.pathset import Json, MappingError
from facade.mapping.plans import ItemSet, LinkFacts, PlannedEntry, RecordPlan, full_url

if TYPE_CHECKING:
    from facade.mapping.engine import MappingEngine


class Planner:
    """One run of ``MappingEngine.plan`` (a fresh planner per record)."""

    def __init__(
        self,
        engine: MappingEngine,
        rt: RecordType,
        record: Mapping[str, Any],
        org_code: str,
        links: LinkFacts | None,
    ) -> None:
        self.e = engine
        self.rt = rt
        self.record = record
        self.org = org_code
        self.links = links
        self.record_id = str(record.get("recordId") or "")
        if not self.record_id:
            raise MappingError("the record has no recordId")
        self.built = engine.built_aliases(rt, record)
        self.main = engine.main_alias(rt, record)
        self.single: dict[str, Json] = {}
        self.items: dict[str, list[Json]] = {}

    def resolve(self, text: str) -> str:
        return resolve(text, record_type=self.rt.record_type, org_code=self.org)

    def run(self) -> RecordPlan:
        for spec in self.rt.resources:
            if spec.alias not in self.built:
                continue
            if spec.per_item_of:
                items = self.record.get(spec.per_item_of) or []
                self.items[spec.alias] = [self.new(spec) for _ in items]
            else:
                self.single[spec.alias] = self.new(spec)
        for field in self.rt.fields:
            self.write_field(field, self.record, None)
        for group in self.rt.groups:
            self.write_group(group)
        for spec in self.rt.resources:
            for resource in self.instances(spec):
                self.finish(spec, resource)
        entries = self.entries()
        return RecordPlan(
            self.rt.record_type,
            self.record_id,
            entries,
            self.item_sets(entries[0]),
            self.alternates(entries[0]),
        )

    def alternates(self, main: PlannedEntry) -> list[str]:
        found: list[str] = []
        for alias in self.rt.main_aliases:
            spec = self.rt.resource(alias)
            if spec.type != main.resource_type:
                url = self.e.key_match(self.rt, spec, self.record_id, self.org)
                if url not in found:
                    found.append(url)
        return found

    def new(self, spec: ResourceSpec) -> Json:
        return {
            "resourceType": spec.type,
            "meta": {
                "profile": [profile_url(spec.profile)],
                "tag": [{"system": REPORTING_ORG_TAG, "code": self.org}],
            },
        }

    def instances(self, spec: ResourceSpec) -> list[Json]:
        if spec.alias in self.single:
            return [self.single[spec.alias]]
        return self.items.get(spec.alias, [])

    # -- values ------------------------------------------------------------------------------------

    def write_field(
        self, field: Field, source: Mapping[str, Any], into: tuple[Json, str] | None
    ) -> None:
        value = source.get(field.name)
        if value is None or not field.forwarded:
            return
        for target in field.fhir:
            for alias in self.rt.target_aliases(target.resource):
                if into is not None:
                    node, type_name = into
                elif alias in self.single:
                    node, type_name = self.single[alias], self.rt.resource(alias).type
                else:
                    continue  # a resource this record does not produce (another category)
                self.put(node, type_name, field, target, value)

    def put(self, node: Json, type_name: str, field: Field, target: Target, value: Any) -> None:
        steps = pathset.steps_of(target.path)
        holder = pathset.parent_type(type_name, steps)
        if target.concept_map:
            translation = self.e.terminology.translate(target.concept_map, str(value))
            if translation is None:
                return  # the map leaves this code out: the untranslated target still carries it
            parent = pathset.put(node, type_name, steps, translation.code, self.resolve)
            if holder == "Coding" and steps[-1].name == "code":
                parent.setdefault("system", translation.system)
                if translation.display:
                    parent.setdefault("display", translation.display)
            return
        converted = value if target.transform else values.to_fhir(field.type, value, self.e.zone)
        parent = pathset.put(node, type_name, steps, converted, self.resolve)
        if holder == "Coding" and steps[-1].name == "code" and field.type == "code":
            self.complete_coding(parent, field, str(value))

    def complete_coding(self, coding: Json, field: Field, code: str) -> None:
        if field.code_table:
            table = self.e.dictionary.code_table(field.code_table)
            coding.setdefault("system", table.system)
            concept = table.concept(code)
            if concept is not None:
                coding.setdefault("display", concept.zh)
        elif field.code_system:
            coding.setdefault("system", self.resolve(field.code_system))

    def write_group(self, group: Group) -> None:
        items = self.record.get(group.name) or []
        if group.maps_to == "resources":
            resources = self.items.get(group.resource, [])
            spec = self.rt.resource(group.resource)
            for item, resource in zip(items, resources, strict=True):
                for field in group.fields:
                    self.write_field(field, item, (resource, spec.type))
            return
        owner = self.single.get(group.resource)
        if owner is None or not items:
            return
        steps = pathset.steps_of(group.path or "")
        for item in items:
            element = pathset.append(
                owner, self.rt.resource(group.resource).type, steps, self.resolve
            )
            for field in group.fields:
                self.write_field(field, item, element)

    def finish(self, spec: ResourceSpec, resource: Json) -> None:
        for constant in spec.constants:
            pathset.put(
                resource, spec.type, pathset.steps_of(constant.path), constant.value, self.resolve
            )
        for derived in spec.derived:
            present = self.record.get(derived.field) is not None
            chosen = derived.present if present else derived.absent
            pathset.put(resource, spec.type, pathset.steps_of(derived.path), chosen, self.resolve)
        for default in spec.defaults:
            steps = pathset.steps_of(default.path)
            value = self.record.get(default.field)
            field = self.rt.field(default.field)
            if (
                value is not None
                and field is not None
                and pathset.get(resource, spec.type, steps, self.resolve) is None
            ):
                pathset.put(
                    resource,
                    spec.type,
                    steps,
                    values.to_fhir(field.type, value, self.e.zone),
                    self.resolve,
                )

    # -- identity and links ------------------------------------------------------------------------

    def entries(self) -> list[PlannedEntry]:
        order = [self.main] + [a for a in self.built if a != self.main]
        planned: dict[str, PlannedEntry] = {}
        listed: list[PlannedEntry] = []
        for alias in order:
            spec = self.rt.resource(alias)
            if alias in self.single:
                key = self.key_value(spec, self.single[alias])
                entry = self.entry(spec, self.single[alias], key)
                planned[alias] = entry
                listed.append(entry)
            for number, resource in enumerate(self.items.get(alias, []), start=1):
                key = f"{self.record_id}/{spec.per_item_of}/{number}"
                pathset.put(resource, spec.type, pathset.steps_of(spec.key), key, self.resolve)
                listed.append(self.entry(spec, resource, key))
        for entry in listed:
            spec = self.rt.resource(entry.alias)
            for ref in spec.references:
                self.link(spec, entry.resource, ref, planned)
        return listed

    def key_value(self, spec: ResourceSpec, resource: Json) -> str:
        value = pathset.get(resource, spec.type, pathset.steps_of(spec.key), self.resolve)
        if not isinstance(value, str) or not value:
            raise MappingError(
                f"{self.rt.record_type}.{spec.alias}: no value at its key {spec.key}"
            )
        return value

    def entry(self, spec: ResourceSpec, resource: Json, key: str) -> PlannedEntry:
        conditional = self.e.key_match(self.rt, spec, key, self.org)
        return PlannedEntry(spec.alias, spec.type, conditional, full_url(conditional), resource)

    def link(
        self,
        spec: ResourceSpec,
        resource: Json,
        ref: Reference,
        planned: Mapping[str, PlannedEntry],
    ) -> None:
        if ref.to is not None:
            target = planned.get(ref.to)
            if target is None:
                raise MappingError(
                    f"{self.rt.record_type}.{spec.alias}: {ref.to!r} is not produced once"
                )
            reference = target.full_url
        else:
            remote = self.remote(ref)
            if remote is None:
                return
            reference = remote
        holder, _ = pathset.enter(resource, spec.type, pathset.steps_of(ref.path), self.resolve)
        holder["reference"] = reference

    def remote(self, ref: Reference) -> str | None:
        value = self.record.get(ref.by_field or "")
        if value is None:
            return None
        target = self.e.record_type(ref.record_type or "")
        main = self.e.dictionary.record_types[target.record_type].resource(single_main(target))
        owner = self.e.key_match(target, main, str(value), self.org)
        if ref.via is None:
            return owner
        hop = next((r for r in main.references if r.path == ref.via and r.to), None)
        if hop is None or hop.to is None:
            raise MappingError(
                f"{target.record_type}.{main.alias} has no local reference {ref.via!r}"
            )
        far = target.resource(hop.to)
        field = key_field(target, far)
        facts = self.links.facts(target.record_type, str(value)) if self.links else None
        if facts and facts.get(field.name):
            return self.e.key_match(target, far, str(facts[field.name]), self.org)
        # Without stored facts HAPI can still find it: the resource the owner's `via` points to.
        search = owner.split("?", 1)[1]
        return f"{far.type}?_has:{main.type}:{ref.via}:{search}"

    def item_sets(self, main: PlannedEntry) -> list[ItemSet]:
        found: list[ItemSet] = []
        for spec in self.rt.resources:
            if not spec.per_item_of or spec.alias not in self.built:
                continue
            owner = next((r for r in spec.references if r.to == self.main), None)
            if owner is None:
                continue
            main_spec = self.rt.resource(main.alias)
            found.append(
                ItemSet(
                    resource_type=spec.type,
                    system=self.resolve(pathset.steps_of(spec.key)[0].value or ""),
                    prefix=f"{self.record_id}/{spec.per_item_of}/",
                    count=len(self.items.get(spec.alias, [])),
                    owner_param=owner.path,
                    owner_system=self.resolve(pathset.steps_of(main_spec.key)[0].value or ""),
                    owner_value=self.key_value(main_spec, main.resource),
                )
            )
        return found


def single_main(rt: RecordType) -> str:
    """The one main alias of a record type other records can point at."""
    if len(rt.main_aliases) != 1:
        raise MappingError(
            f"record type {rt.record_type} has several main resources; it cannot be referenced"
        )
    return rt.main_aliases[0]


def key_field(rt: RecordType, spec: ResourceSpec) -> Field:
    """The top-level field of ``rt`` that fills the key of ``spec`` (patientId for the Patient of a case)."""
    for field in rt.fields:
        for target in field.fhir:
            if spec.alias in rt.target_aliases(target.resource) and target.path == spec.key:
                return field
    raise MappingError(f"{rt.record_type}: no field fills the key of {spec.alias}")
