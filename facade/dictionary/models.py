"""Record types of the data-element dictionary (``mappings/dictionary/*.yaml``) as strict models.

Schema documentation: ``mappings/README.md``. Cross-file checks (code tables, aliases, indicator
ids) happen in ``facade.dictionary.loader`` once every file is read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PydField, field_validator, model_validator

from facade.dictionary.codetables import Strict
from facade.dictionary.paths import PathError, check_tokens, parse

FieldType = Literal[
    "string", "code", "integer", "decimal", "date", "datetime", "boolean", "identity-number"
]
SourceSystem = Literal["HIS", "EMR", "VTE", "LIS", "PACS", "registration"]
RuleKind = Literal[
    "not-before",
    "not-after",
    "requires",
    "equals-envelope",
    "present-iff-true",
    "property-matches",
    "one-of",
    "either",
]
Scalar = str | int | float | bool

_NAME = r"^[a-z][A-Za-z0-9]*$"
_SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAIN = "$main"  # alias standing for the record type's main resource (used by the common fields)


def _check_path(path: str) -> str:
    try:
        parse(path)
    except PathError as exc:
        raise ValueError(str(exc)) from exc
    return path


class When(Strict):
    """A condition on a coded field of the same record: holds when its code is one of ``codes``."""

    field: str = PydField(pattern=_NAME)
    codes: list[str] = PydField(min_length=1)


class Target(Strict):
    """Where a field's value goes: resource alias + element path (+ translation)."""

    resource: str
    path: str
    concept_map: str | None = None
    transform: Literal["regional-pseudonym"] | None = None
    note: str | None = None

    _path = field_validator("path")(_check_path)


class Rule(Strict):
    """A logic rule checked per record (native code 3005)."""

    id: str = PydField(pattern=_SLUG)
    kind: RuleKind
    other: str | None = PydField(
        default=None, description="Field compared with (not-before, not-after, requires)."
    )
    envelope: str | None = PydField(
        default=None, description="Envelope member compared with (equals-envelope)."
    )
    linked: str | None = PydField(
        default=None,
        description="not-before/not-after across records: the top-level field holding the other "
        "record's key (a references by_field); 'other' is then a field of that record.",
    )
    property: str | None = PydField(
        default=None,
        description="property-matches / one-of: compare this code's concept property, not the code.",
    )
    values: list[Scalar] | None = PydField(
        default=None, description="one-of: the allowed values (of the code, or of its property)."
    )
    zh: str = PydField(
        description="The rule in Chinese: what hospital staff read in error messages."
    )
    description: str

    @model_validator(mode="after")
    def _operands(self) -> Rule:
        if self.kind == "equals-envelope" and not self.envelope:
            raise ValueError("equals-envelope needs 'envelope'")
        if self.kind == "one-of" and not self.values:
            raise ValueError("one-of needs 'values'")
        if self.kind not in ("equals-envelope", "one-of") and not self.other:
            raise ValueError(f"{self.kind} needs 'other'")
        if self.kind == "property-matches" and not self.property:
            raise ValueError("property-matches needs 'property'")
        if self.linked and self.kind not in ("not-before", "not-after"):
            raise ValueError("only not-before and not-after rules may compare with a linked record")
        return self


class Field(Strict):
    """One data element: naming, type and format, value domain, provenance, use and FHIR target."""

    name: str = PydField(pattern=_NAME, max_length=40)
    zh: str
    en: str
    definition: str
    type: FieldType
    format: str | None = PydField(
        default=None, description="WS/T 303 representation format, e.g. DT15, AN..18."
    )
    max_length: int | None = PydField(default=None, ge=1)
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool
    required_when: When | None = None
    code_table: str | None = None
    code_system: str | None = PydField(
        default=None, description="External code system URI (ICD-10, ICD-9-CM-3)."
    )
    code_system_zh: str | None = PydField(
        default=None,
        description="The code system as people know it (the Excel template's 数据字典 sheet); "
        "required with code_system.",
    )
    source: list[SourceSystem] = PydField(min_length=1)
    de: str | None = PydField(default=None, pattern=r"^DE\d{2}\.\d{2}\.\d{3}\.\d{2}$")
    indicators: list[str] = PydField(default_factory=list)
    id_type_field: str | None = PydField(
        default=None, description="identity-number: the field holding its document type."
    )
    forwarded: bool = True
    fhir: list[Target] = PydField(default_factory=list)
    rules: list[Rule] = PydField(default_factory=list)
    example: Scalar | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Field:
        coded = self.code_table is not None or self.code_system is not None
        if self.type == "code" and not coded:
            raise ValueError("a code field needs code_table or code_system")
        if self.code_table and self.code_system:
            raise ValueError("code_table and code_system are exclusive")
        if (self.code_system is None) != (self.code_system_zh is None):
            raise ValueError("code_system and code_system_zh go together")
        if self.type != "code" and coded:
            raise ValueError(f"a {self.type} field takes no code_table/code_system")
        if self.type in ("string", "identity-number") and self.max_length is None:
            raise ValueError(f"a {self.type} field needs max_length")
        if self.required and self.required_when:
            raise ValueError("required and required_when are exclusive")
        if self.forwarded != bool(self.fhir):
            raise ValueError(
                "a forwarded field needs fhir targets; a field with forwarded: false has none"
            )
        if (self.type == "identity-number") != (self.id_type_field is not None):
            raise ValueError(
                "id_type_field is required for identity-number fields and only for them"
            )
        pseudonymised = any(t.transform == "regional-pseudonym" for t in self.fhir)
        if (self.type == "identity-number") != pseudonymised:
            raise ValueError(
                "identity-number fields (and only they) go to FHIR through transform: regional-pseudonym"
            )
        for target in self.fhir:
            if target.concept_map and not self.code_table:
                raise ValueError("concept_map needs a code_table")
        if self.pattern:
            check_tokens(self.pattern)
        return self


class Group(Strict):
    """A repeating group: an array of objects in the native record."""

    name: str = PydField(pattern=_NAME)
    zh: str
    en: str
    definition: str
    required: bool
    max_items: int = PydField(ge=1)
    maps_to: Literal["resources", "elements"]
    resource: str = PydField(
        description="Per-item resource alias (resources) or the resource holding the element."
    )
    path: str | None = PydField(
        default=None, description="Repeated element, for maps_to: elements."
    )
    fields: list[Field] = PydField(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Group:
        if (self.maps_to == "elements") != (self.path is not None):
            raise ValueError(
                "path is required for maps_to: elements and not allowed for maps_to: resources"
            )
        return self

    @field_validator("path")
    @classmethod
    def _element(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)


class Reference(Strict):
    """A Reference element the mapping engine fills: to a resource of this record or of another record."""

    path: str
    to: str | None = PydField(default=None, description="Alias of a resource of the same record.")
    record_type: str | None = PydField(default=None, description="Another record type ...")
    by_field: str | None = PydField(
        default=None, description="... whose recordId this field holds ..."
    )
    via: str | None = PydField(
        default=None, description="... following this reference of its main resource."
    )

    _path = field_validator("path")(_check_path)

    @model_validator(mode="after")
    def _kind(self) -> Reference:
        local = self.to is not None
        remote = self.record_type is not None and self.by_field is not None
        if local == remote or (self.via and not remote):
            raise ValueError(
                "a reference names either 'to', or 'record_type' + 'by_field' (+ optional 'via')"
            )
        return self


class Constant(Strict):
    """A value every resource of this alias carries (fixed by the profile or by convention)."""

    path: str
    value: Scalar

    _path = field_validator("path")(_check_path)


class Derived(Strict):
    """A value that depends on whether a field is present (e.g. Encounter.status from the discharge time)."""

    path: str
    field: str = PydField(pattern=_NAME)
    present: Scalar
    absent: Scalar

    _path = field_validator("path")(_check_path)


class Default(Strict):
    """A value taken from another field when no field fills ``path`` (a profile needs it, the record may lack it)."""

    path: str
    field: str = PydField(pattern=_NAME)

    _path = field_validator("path")(_check_path)


class ResourceSpec(Strict):
    """A FHIR resource a record becomes."""

    alias: str = PydField(pattern=r"^[a-z][A-Za-z0-9]*$")
    type: str = PydField(pattern=r"^[A-Z][A-Za-z]+$")
    profile: str = PydField(pattern=_SLUG, description="Id of our StructureDefinition.")
    key: str = PydField(description="Path of the business identifier used for conditional update.")
    per_item_of: str | None = None
    when: When | None = None
    constants: list[Constant] = PydField(default_factory=list)
    derived: list[Derived] = PydField(default_factory=list)
    defaults: list[Default] = PydField(default_factory=list)
    references: list[Reference] = PydField(default_factory=list)

    _key = field_validator("key")(_check_path)


class RecordType(Strict):
    """One file of ``mappings/dictionary``: a record hospitals send and the resources it becomes."""

    version: int = PydField(ge=1)
    record_type: str = PydField(pattern=_SLUG)
    service_code: str = PydField(pattern=r"^VTE(\.[A-Z]+)+$")
    zh: str
    en: str
    description: str
    main: str | list[str] = PydField(
        description="Alias of the resource keyed by the recordId; a list when the record produces one of several."
    )
    resources: list[ResourceSpec] = PydField(min_length=1)
    fields: list[Field] = PydField(min_length=1)
    groups: list[Group] = PydField(default_factory=list)

    @property
    def main_aliases(self) -> list[str]:
        """Aliases ``$main`` stands for (several only when exclusive ``when`` conditions pick one)."""
        return [self.main] if isinstance(self.main, str) else list(self.main)

    def resource(self, alias: str) -> ResourceSpec:
        """The resource spec with this alias; KeyError if absent."""
        for spec in self.resources:
            if spec.alias == alias:
                return spec
        raise KeyError(alias)

    def target_aliases(self, alias: str) -> list[str]:
        """The aliases a target's ``resource`` names (``$main`` expands to the main resources)."""
        return self.main_aliases if alias == MAIN else [alias]

    def all_fields(self) -> list[tuple[Group | None, Field]]:
        """Top-level fields (group None) then each group's fields, in file order."""
        pairs: list[tuple[Group | None, Field]] = [(None, f) for f in self.fields]
        for group in self.groups:
            pairs.extend((group, f) for f in group.fields)
        return pairs

    def field(self, name: str) -> Field | None:
        """A top-level field by name."""
        return next((f for f in self.fields if f.name == name), None)


class Indicator(Strict):
    """An indicator id fields may name in ``indicators`` (vte-domain.md §1.2 working set)."""

    id: str = PydField(pattern=r"^[A-Z][0-9][a-z]?$")
    zh: str
    en: str


class Common(Strict):
    """``mappings/dictionary/_common.yaml``: fields every record carries, and the indicator catalogue."""

    version: int = PydField(ge=1)
    clinical_order: list[str] = PydField(
        default_factory=list,
        description="Record types in the order of a stay (case, risk, bleeding, prophylaxis, "
        "event); the Excel template's sheet order.",
    )
    fields: list[Field]
    indicators: list[Indicator]
