"""What a researcher can ask for: every variable of the research views, described from the data
dictionary, with the region's counts per month (aggregates only, small cells withheld)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Field
from facade.fhir.naming import code_system_url
from facade.indicators.joins import iso
from facade.indicators.periods import parse_period
from facade.indicators.vocab import DISCHARGE_DATE, IMP
from facade.research.privacy import small_cell
from facade.research.sof import View
from facade.settings import Settings
from facade.upstream import UpstreamClient

KEY_SUFFIX = "_id"


@dataclass(frozen=True)
class ViewSpec:
    """One research view: its ViewDefinition (as data) and compiled form."""

    name: str
    definition: dict[str, Any]
    view: View
    source: Path

    @property
    def resource(self) -> str:
        """The FHIR type the view reads."""
        return self.view.resource

    def columns(self) -> list[dict[str, Any]]:
        """The column specs of the view's (flat) select."""
        return [c for s in self.definition.get("select", []) for c in s.get("column", [])]

    def keys(self) -> list[str]:
        """Columns always delivered with a view: its row id and the ids it joins on."""
        return [c["name"] for c in self.columns() if str(c["name"]).endswith(KEY_SUFFIX)]

    def narrowed(self, granted: set[str]) -> dict[str, Any]:
        """The ViewDefinition with only the granted columns (and the keys)."""
        keep = set(self.keys()) | {
            v.split(".", 1)[1] for v in granted if v.split(".", 1)[0] == self.name
        }
        definition = orjson.loads(orjson.dumps(self.definition))
        for select in definition.get("select", []):
            select["column"] = [c for c in select.get("column", []) if c["name"] in keep]
        return dict(definition)


@cache
def _views(directory: Path) -> tuple[ViewSpec, ...]:
    specs = []
    for path in sorted(directory.glob("*.json")):
        definition = orjson.loads(path.read_bytes())
        specs.append(ViewSpec(path.stem, definition, View(definition), path))
    return tuple(specs)


def views(settings: Settings) -> tuple[ViewSpec, ...]:
    """The research views of ``mappings/research/views`` (read once per process)."""
    return _views(settings.mappings_dir / "research" / "views")


@cache
def _dictionary(root: Path) -> Dictionary:
    return load_dictionary(root)


def _field(dictionary: Dictionary, ref: str) -> Field | None:
    record, _, rest = ref.partition(".")
    spec = dictionary.record_types.get(record)
    if spec is None:
        return None
    parts = rest.split(".")
    for group, field in spec.all_fields():
        if (group is None and parts == [field.name]) or (
            group is not None and parts == [group.name, field.name]
        ):
            return field
    return None


def variables(settings: Settings) -> list[dict[str, Any]]:
    """Every variable (``view.column``) with its definition, code system and dictionary link."""
    dictionary = _dictionary(settings.mappings_dir)
    out = []
    for spec in views(settings):
        for column in spec.columns():
            ref = next(
                (t["value"] for t in column.get("tag", []) if t.get("name") == "dictionary"), None
            )
            field = _field(dictionary, ref) if ref else None
            item: dict[str, Any] = {
                "id": f"{spec.name}.{column['name']}",
                "view": spec.name,
                "resource": spec.resource,
                "column": column["name"],
                "key": str(column["name"]).endswith(KEY_SUFFIX),
                "description": column.get("description"),
                "fhirPath": column["path"],
                "type": column.get("type", "string"),
            }
            if field is not None:
                item["dictionary"] = {
                    "field": ref,
                    "zh": field.zh,
                    "en": field.en,
                    "definition": field.definition,
                    "de": field.de,
                    "codeSystem": code_system_url(field.code_table)
                    if field.code_table
                    else field.code_system,
                }
            out.append(item)
    return out


def known_variables(settings: Settings) -> set[str]:
    """Ids a request may name."""
    return {v["id"] for v in variables(settings)}


async def counts(
    settings: Settings, upstream: UpstreamClient, period: str, tz: Any
) -> dict[str, dict[str, int | None]]:
    """Per resource type of the views, per month: resources of stays discharged that month in the
    region (``_summary=count``); counts below the minimum cell size are withheld (null)."""
    span = parse_period(period, tz)
    # Patients are counted through their stays (a person may have several): not listed.
    types = sorted({s.resource for s in views(settings)} - {"Patient"})
    gate = asyncio.Semaphore(settings.indicator_concurrency)

    async def one(rtype: str, month: str) -> tuple[str, str, int]:
        start, end = span.month_range(month)
        window = [f"ge{iso(start)}", f"lt{iso(end)}"]
        if rtype == "Encounter":
            params: dict[str, str | list[str]] = {"class": IMP, DISCHARGE_DATE.code: window}
        else:
            link = "context" if rtype == "MedicationAdministration" else "encounter"
            params = {f"{link}:Encounter.{DISCHARGE_DATE.code}": window}
        async with gate:
            return rtype, month, await upstream.count(rtype, params)

    found = await asyncio.gather(*(one(t, m) for t in types for m in span.months()))
    table: dict[str, dict[str, int | None]] = {t: {} for t in types}
    for rtype, month, count in found:
        table[rtype][month] = small_cell(count, settings.research_min_cell)
    return table
