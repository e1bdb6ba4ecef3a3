"""Native record → profiled FHIR resources, by interpreting the data-element dictionary.

The input is a *prepared* record (see ``facade.mapping.prepare``): values normalised, identity
numbers already replaced by their regional pseudonym, fields that are not forwarded dropped.
The output is a ``RecordPlan``: one transaction entry per resource, each a conditional update on
the resource's business identifier (``PUT Type?identifier=system|value``).

References: inside a record they point at the other entry's ``fullUrl``; across records they are
conditional references (``Encounter?identifier=...``) that HAPI resolves inside the transaction,
or that the bundle builder rewrites to a ``fullUrl`` when the target travels in the same bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timezone
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Field, RecordType, Reference, ResourceSpec
from facade.dictionary.paths import resolve
from facade.mapping import pathset, values
from facade.mapping.pathset import MappingError
from facade.mapping.planner import Planner, key_field, single_main
from facade.mapping.plans import (
    ItemSet,
    LinkFacts,
    PlannedEntry,
    RecordPlan,
    full_url,
    match_url,
)
from facade.mapping.terminology import Terminology
from facade.settings import Settings

__all__ = [
    "ItemSet",
    "LinkFacts",
    "MappingEngine",
    "PlannedEntry",
    "RecordPlan",
    "full_url",
    "key_field",
    "match_url",
]


class MappingEngine:
    """The dictionary, its ConceptMaps and the local time zone: everything mapping needs."""

    def __init__(self, dictionary: Dictionary, terminology: Terminology, zone: timezone) -> None:
        self.dictionary = dictionary
        self.terminology = terminology
        self.zone = zone

    @classmethod
    def from_settings(cls, settings: Settings) -> MappingEngine:
        """The engine for ``settings.mappings_dir``/``profiles_dir`` (loaded once per process)."""
        return _load(settings.mappings_dir, settings.profiles_dir, settings.mapping_utc_offset)

    def record_type(self, name: str) -> RecordType:
        """A record type by name; KeyError if unknown."""
        return self.dictionary.record_types[name]

    def for_service(self, service_code: str) -> RecordType | None:
        """The record type a native service carries."""
        return self.dictionary.by_service_code(service_code)

    # -- which resources and fields apply -------------------------------------------------------

    def built_aliases(self, rt: RecordType, record: Mapping[str, Any]) -> list[str]:
        """Aliases of the resources this record produces (``when`` conditions decide)."""
        return [
            s.alias
            for s in rt.resources
            if s.when is None or record.get(s.when.field) in s.when.codes
        ]

    def applies(self, rt: RecordType, target_holder: Field, record: Mapping[str, Any]) -> bool:
        """Whether a forwarded field lands somewhere for this record (else it is ignored)."""
        built = set(self.built_aliases(rt, record))
        return any(
            alias in built for t in target_holder.fhir for alias in rt.target_aliases(t.resource)
        )

    def main_alias(self, rt: RecordType, record: Mapping[str, Any]) -> str:
        """The main alias this record produces."""
        built = self.built_aliases(rt, record)
        found = next((a for a in rt.main_aliases if a in built), None)
        if found is None:
            raise MappingError(f"{rt.record_type}: the record produces none of {rt.main_aliases}")
        return found

    # -- links between records -------------------------------------------------------------------

    def linked_record_ids(
        self, rt: RecordType, records: Iterable[Mapping[str, Any]]
    ) -> dict[str, set[str]]:
        """The recordIds ``records`` of type ``rt`` link to, by target record type (to look
        them up together before a batch or a round is prepared)."""
        found: dict[str, set[str]] = {}
        for ref in self.links_by_record_id(rt):
            ids = found.setdefault(ref.record_type or "", set())
            for record in records:
                value = record.get(ref.by_field or "") if isinstance(record, Mapping) else None
                if isinstance(value, str) and not values.is_absent(value):
                    ids.add(value.strip())
        return found

    def links_by_record_id(self, rt: RecordType) -> list[Reference]:
        """Remote references of ``rt`` (one per linking field) whose target is found by its recordId.

        Those targets must have been sent first (3006). A reference to the institution itself
        (by orgCode) is not among them: registration creates the Organization.
        """
        found: dict[str, Reference] = {}
        for spec in rt.resources:
            for ref in spec.references:
                if ref.record_type is None or ref.by_field is None or ref.by_field in found:
                    continue
                target = self.record_type(ref.record_type)
                main = target.resource(single_main(target))
                if main.key.replace(" ", "") == "identifier[system=${record}].value":
                    found[ref.by_field] = ref
        return list(found.values())

    @cached_property
    def _fact_fields(self) -> dict[str, frozenset[str]]:
        wanted: dict[str, set[str]] = {}
        for rt in self.dictionary.record_types.values():
            for _, field in rt.all_fields():
                for rule in field.rules:
                    linked = _linked_type(rt, rule.linked) if rule.linked else None
                    if linked and rule.other:
                        wanted.setdefault(linked, set()).add(rule.other)
            for spec in rt.resources:
                for ref in spec.references:
                    if ref.record_type and ref.via:
                        target = self.record_type(ref.record_type)
                        main = target.resource(single_main(target))
                        hop = next((r for r in main.references if r.path == ref.via and r.to), None)
                        if hop is not None and hop.to is not None:
                            far = target.resource(hop.to)
                            wanted.setdefault(target.record_type, set()).add(
                                key_field(target, far).name
                            )
        return {name: frozenset(fields) for name, fields in wanted.items()}

    def fact_fields(self, record_type: str) -> frozenset[str]:
        """Fields of ``record_type`` that records linking to it need later (kept as facts)."""
        return self._fact_fields.get(record_type, frozenset())

    # -- native → FHIR ----------------------------------------------------------------------------

    def plan(
        self,
        rt: RecordType,
        record: Mapping[str, Any],
        org_code: str,
        links: LinkFacts | None = None,
    ) -> RecordPlan:
        """The resources a prepared record becomes; MappingError if the record cannot be mapped."""
        return Planner(self, rt, record, org_code, links).run()

    def key_match(self, rt: RecordType, spec: ResourceSpec, value: str, org_code: str) -> str:
        """Conditional URL of a resource of ``rt`` whose key holds ``value``."""
        steps = pathset.steps_of(spec.key)
        if len(steps) != 2 or steps[0].name != "identifier" or steps[0].key != "system":
            raise MappingError(
                f"{rt.record_type}.{spec.alias}: key must be identifier[system=...].value"
            )
        system = resolve(steps[0].value or "", record_type=rt.record_type, org_code=org_code)
        return match_url(spec.type, system, value)


@cache
def _load(mappings_dir: Path, profiles_dir: Path, offset: str) -> MappingEngine:
    return MappingEngine(
        load_dictionary(mappings_dir),
        Terminology.from_profiles(profiles_dir),
        values.parse_offset(offset),
    )


def _linked_type(rt: RecordType, linking_field: str) -> str | None:
    for spec in rt.resources:
        for ref in spec.references:
            if ref.by_field == linking_field and ref.record_type:
                return ref.record_type
    return None
