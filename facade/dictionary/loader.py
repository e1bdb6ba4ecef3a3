"""Read ``mappings/`` into a checked Dictionary; every error names the file and the key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from facade.dictionary.codetables import CodeTable, ConceptMapSpec
from facade.dictionary.models import MAIN, Common, Field, Group, Indicator, RecordType, Rule
from facade.errors import ConfigurationError

COMMON_FILE = "_common.yaml"
M = TypeVar("M", bound=BaseModel)


class DictionaryError(ConfigurationError):
    """A mapping file is malformed or inconsistent; the message starts with ``file: key:``."""


@dataclass(frozen=True)
class Dictionary:
    """Every record type and code table, cross-checked."""

    root: Path
    code_tables: dict[str, CodeTable]
    record_types: dict[str, RecordType]
    indicators: dict[str, Indicator]
    clinical_order: tuple[str, ...] = ()  # record types in the order of a stay

    def code_table(self, table_id: str) -> CodeTable:
        """A code table by id; KeyError if unknown."""
        return self.code_tables[table_id]

    def by_service_code(self, service_code: str) -> RecordType | None:
        """The record type a native service code carries, if any."""
        return next((r for r in self.record_types.values() if r.service_code == service_code), None)

    def concept_map(self, map_id: str) -> tuple[CodeTable, ConceptMapSpec]:
        """The ConceptMap with this id and the table it maps from; KeyError if unknown."""
        for table in self.code_tables.values():
            found = table.concept_map(map_id)
            if found:
                return table, found
        raise KeyError(map_id)


def load_dictionary(root: Path) -> Dictionary:
    """Load ``root/code-tables/*.yaml`` and ``root/dictionary/*.yaml``; raise DictionaryError on any problem."""
    tables: dict[str, CodeTable] = {}
    for path in sorted((root / "code-tables").glob("*.yaml")):
        table = read_model(CodeTable, path)
        if table.id != path.stem:
            raise DictionaryError(
                f"{_show(path)}: id: {table.id!r} must equal the file name {path.stem!r}"
            )
        tables[table.id] = table
    common_path = root / "dictionary" / COMMON_FILE
    common = read_model(Common, common_path)
    indicators = {i.id: i for i in common.indicators}
    records: dict[str, RecordType] = {}
    services: dict[str, str] = {}
    for path in sorted((root / "dictionary").glob("*.yaml")):
        if path.name == COMMON_FILE:
            continue
        own = read_model(RecordType, path)
        if own.record_type != path.stem:
            raise DictionaryError(
                f"{_show(path)}: record_type: {own.record_type!r} must equal the file name"
            )
        if own.service_code in services:
            raise DictionaryError(
                f"{_show(path)}: service_code: {own.service_code} is also used by {services[own.service_code]}"
            )
        services[own.service_code] = own.record_type
        records[own.record_type] = own.model_copy(update={"fields": [*common.fields, *own.fields]})
    if sorted(common.clinical_order) != sorted(records):
        raise DictionaryError(
            f"{_show(common_path)}: clinical_order: must name each record type once "
            f"({', '.join(sorted(records))})"
        )
    dictionary = Dictionary(root, tables, records, indicators, tuple(common.clinical_order))
    for name, record in records.items():
        _Checker(dictionary, record, root / "dictionary" / f"{name}.yaml").run()
    return dictionary


def read_model(model: type[M], path: Path, error: type[ConfigurationError] = DictionaryError) -> M:
    """One YAML file as a strict model; ``error`` names the file and the first bad key."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{_show(path)}: file is missing") from exc
    except yaml.YAMLError as exc:
        raise error(f"{_show(path)}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first["loc"], data)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(f"{_show(path)}: {where}: {first['msg']}{more}") from exc


def _location(loc: Iterable[int | str], data: Any) -> str:
    """``fields[3](birthDate).type`` — index plus the item's name so the key is easy to find."""
    text, node = "", data
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = (
                node.get("name") or node.get("code") or node.get("alias")
                if isinstance(node, dict)
                else None
            )
            if name:
                text += f"({name})"
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text or "(document)"


def _show(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)


class _Checker:
    """Cross-reference checks of one record type against the code tables and the other records."""

    def __init__(self, dictionary: Dictionary, record: RecordType, path: Path) -> None:
        self.d = dictionary
        self.r = record
        self.path = path

    def fail(self, where: str, message: str) -> None:
        raise DictionaryError(f"{_show(self.path)}: {where}: {message}")

    def run(self) -> None:
        aliases = [s.alias for s in self.r.resources]
        if len(set(aliases)) != len(aliases):
            self.fail("resources", "aliases must be unique")
        for main in self.r.main_aliases:
            if main not in aliases:
                self.fail("main", f"{main!r} is not a resource alias")
            if len(self.r.main_aliases) > 1 and self.r.resource(main).when is None:
                self.fail(
                    "main", f"{main!r}: several main resources need exclusive 'when' conditions"
                )
        self.check_exclusive_mains()
        groups = {g.name: g for g in self.r.groups}
        names = [f.name for f in self.r.fields] + list(groups)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            self.fail("fields", f"names used twice: {duplicates}")
        for spec in self.r.resources:
            where = f"resources({spec.alias})"
            if spec.per_item_of:
                group = groups.get(spec.per_item_of)
                if group is None or group.maps_to != "resources" or group.resource != spec.alias:
                    self.fail(
                        where,
                        f"per_item_of {spec.per_item_of!r} must name a maps_to: resources group of this alias",
                    )
            if spec.when:
                self.check_when(f"{where}.when", spec.when.field, spec.when.codes)
            for value in spec.derived:
                if self.r.field(value.field) is None:
                    self.fail(f"{where}.derived", f"{value.field!r} is not a top-level field")
            for default in spec.defaults:
                if self.r.field(default.field) is None:
                    self.fail(f"{where}.defaults", f"{default.field!r} is not a top-level field")
            for ref in spec.references:
                if ref.to and ref.to not in aliases:
                    self.fail(f"{where}.references", f"unknown alias {ref.to!r}")
                if ref.record_type and ref.record_type not in self.d.record_types:
                    self.fail(f"{where}.references", f"unknown record type {ref.record_type!r}")
                if ref.by_field and self.r.field(ref.by_field) is None:
                    self.fail(
                        f"{where}.references", f"by_field {ref.by_field!r} is not a top-level field"
                    )
        for field in self.r.fields:
            self.check_field(f"fields({field.name})", field, None, {f.name for f in self.r.fields})
        for group in self.r.groups:
            if group.resource not in aliases:
                self.fail(f"groups({group.name}).resource", f"unknown alias {group.resource!r}")
            own = [f.name for f in group.fields]
            if len(set(own)) != len(own):
                self.fail(f"groups({group.name}).fields", "names must be unique")
            for field in group.fields:
                self.check_field(
                    f"groups({group.name}).fields({field.name})", field, group, set(own)
                )

    def check_exclusive_mains(self) -> None:
        mains = [
            self.r.resource(a)
            for a in self.r.main_aliases
            if a in {s.alias for s in self.r.resources}
        ]
        conditions = [m.when for m in mains if m.when is not None]
        if len(conditions) < 2:
            return
        if len({c.field for c in conditions}) != 1:
            self.fail(
                "main", "the 'when' conditions of the main resources must test the same field"
            )
        codes = [code for c in conditions for code in c.codes]
        if len(set(codes)) != len(codes):
            self.fail("main", "the 'when' conditions of the main resources overlap")

    def check_when(self, where: str, name: str, codes: list[str]) -> None:
        field = self.r.field(name)
        if field is None or field.code_table is None:
            self.fail(where, f"{name!r} must be a top-level field with a code_table")
            return
        unknown = sorted(set(codes) - set(self.d.code_tables[field.code_table].codes))
        if unknown:
            self.fail(where, f"codes {unknown} are not in code table {field.code_table!r}")

    def check_rule(
        self, where: str, field: Field, rule: Rule, group: Group | None, siblings: set[str]
    ) -> None:
        """Operands of a rule: the compared field exists where the rule kind looks for it."""
        if rule.linked:
            linked = next(
                (
                    ref.record_type
                    for spec in self.r.resources
                    for ref in spec.references
                    if ref.by_field == rule.linked and ref.record_type
                ),
                None,
            )
            if linked is None:
                self.fail(where, f"linked {rule.linked!r} is not the by_field of a reference")
                return
            target = self.d.record_types.get(linked)
            if target is not None and target.field(rule.other or "") is None:
                self.fail(where, f"{linked} has no field {rule.other!r}")
            return
        groups = {g.name for g in self.r.groups}
        top = {f.name for f in self.r.fields}
        allowed = set(siblings)
        if group is not None:
            allowed |= top  # an item may be compared with the record it belongs to
        if rule.kind in ("requires", "present-iff-true"):
            allowed |= groups
        if rule.kind == "either" and rule.other not in siblings:
            self.fail(where, f"either compares with a field next to this one, not {rule.other!r}")
        if rule.other and rule.other not in allowed:
            self.fail(where, f"other field {rule.other!r} is not next to this field")
        if rule.property:
            table = self.d.code_tables.get(field.code_table or "")
            if table is None or rule.property not in {p.code for p in table.properties}:
                self.fail(
                    where, f"property {rule.property!r} is not a property of the field's code table"
                )
        if rule.kind == "present-iff-true" and field.type != "boolean":
            self.fail(where, "present-iff-true belongs on a boolean field")

    def check_field(
        self, where: str, field: Field, group: Group | None, siblings: set[str]
    ) -> None:
        if field.code_table and field.code_table not in self.d.code_tables:
            self.fail(f"{where}.code_table", f"unknown code table {field.code_table!r}")
        if field.required_when:
            self.check_when(
                f"{where}.required_when", field.required_when.field, field.required_when.codes
            )
        if field.id_type_field:
            kind = next((f for f in self.r.fields if f.name == field.id_type_field), None)
            if kind is None or kind.code_table != "cv02-01-101-id-document-type":
                self.fail(
                    f"{where}.id_type_field",
                    "must name a field coded with cv02-01-101-id-document-type",
                )
        unknown = sorted(set(field.indicators) - set(self.d.indicators))
        if unknown:
            self.fail(f"{where}.indicators", f"unknown indicator ids {unknown}")
        for rule in field.rules:
            self.check_rule(f"{where}.rules({rule.id})", field, rule, group, siblings)
        for target in field.fhir:
            alias = target.resource
            if group is not None and alias != group.resource:
                self.fail(
                    f"{where}.fhir",
                    f"a field of group {group.name!r} maps into {group.resource!r} only",
                )
            if alias != MAIN and alias not in {s.alias for s in self.r.resources}:
                self.fail(f"{where}.fhir", f"unknown resource alias {alias!r}")
            if target.concept_map:
                table = self.d.code_tables.get(field.code_table or "")
                if table is None or table.concept_map(target.concept_map) is None:
                    self.fail(
                        f"{where}.fhir",
                        f"concept map {target.concept_map!r} is not one of {field.code_table}'s",
                    )
