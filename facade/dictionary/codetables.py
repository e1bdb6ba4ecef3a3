"""Code tables (local and national value domains) as strict models; the one source of our CodeSystems."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facade.fhir.naming import CANONICAL, code_system_url, value_set_url

_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PropertyValue = str | bool | int | float


class Strict(BaseModel):
    """Base of every mapping model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PropertyDef(Strict):
    """A concept property declared by a code table (becomes CodeSystem.property)."""

    code: str = Field(pattern=_ID)
    type: Literal["code", "string", "integer", "decimal", "boolean"]
    description: str


class Concept(Strict):
    """One code with its Chinese and English display."""

    code: str = Field(pattern=r"^\S+$", max_length=32)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    definition: str | None = None
    properties: dict[str, PropertyValue] = Field(default_factory=dict)


class MapTarget(Strict):
    """Where one source code goes in the target code system."""

    code: str = Field(pattern=r"^\S+$")
    display: str | None = None
    equivalence: Literal["equivalent", "equal", "wider", "narrower", "inexact"] = "equivalent"


class ConceptMapSpec(Strict):
    """A ConceptMap from this table to a FHIR (or international) code system."""

    id: str = Field(pattern=_ID)
    title_en: str
    target_system: str
    target_value_set: str | None = None
    mappings: dict[str, MapTarget]

    @property
    def url(self) -> str:
        """Canonical URL of the generated ConceptMap."""
        return f"{CANONICAL}/ConceptMap/{self.id}"

    def translate(self, code: str) -> MapTarget | None:
        """The target of ``code``, or None when the map has no entry for it."""
        return self.mappings.get(code)


class CodeTable(Strict):
    """One file of ``mappings/code-tables``: a CodeSystem, its all-codes ValueSet, and its ConceptMaps."""

    version: int = Field(ge=1)
    id: str = Field(pattern=_ID)
    title_zh: str
    title_en: str
    description: str
    source: str
    url: str | None = Field(
        default=None, description="System URI when not under our canonical (national OIDs)."
    )
    oid: str | None = Field(default=None, pattern=r"^[0-2](\.\d+)+$")
    properties: list[PropertyDef] = Field(default_factory=list)
    concepts: list[Concept] = Field(min_length=1)
    concept_maps: list[ConceptMapSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CodeTable:
        seen: set[str] = set()
        declared = {p.code: p.type for p in self.properties}
        for concept in self.concepts:
            if concept.code in seen:
                raise ValueError(f"duplicate code {concept.code!r}")
            seen.add(concept.code)
            for key, value in concept.properties.items():
                if key not in declared:
                    raise ValueError(f"code {concept.code!r}: undeclared property {key!r}")
                if not _fits(declared[key], value):
                    raise ValueError(
                        f"code {concept.code!r}: property {key!r} is not a {declared[key]}"
                    )
        for cmap in self.concept_maps:
            unknown = sorted(set(cmap.mappings) - seen)
            if unknown:
                raise ValueError(f"concept map {cmap.id!r} maps unknown codes {unknown}")
        return self

    @property
    def system(self) -> str:
        """The CodeSystem URL codes of this table carry in ``Coding.system``."""
        return self.url or code_system_url(self.id)

    @property
    def value_set(self) -> str:
        """URL of the ValueSet holding every code of this table."""
        return value_set_url(self.id)

    @property
    def fsh_name(self) -> str:
        """A FHIR ``name`` for the CodeSystem (PascalCase of the id)."""
        return "".join(part.capitalize() for part in re.split(r"-", self.id))

    @property
    def codes(self) -> list[str]:
        """Codes in table order."""
        return [c.code for c in self.concepts]

    def concept(self, code: str) -> Concept | None:
        """The concept with this code, if the table has it."""
        return next((c for c in self.concepts if c.code == code), None)

    def concept_map(self, map_id: str) -> ConceptMapSpec | None:
        """One of this table's ConceptMaps by id."""
        return next((m for m in self.concept_maps if m.id == map_id), None)


def _fits(kind: str, value: PropertyValue) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "decimal":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)
