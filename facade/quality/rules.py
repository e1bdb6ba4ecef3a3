"""Load ``mappings/quality`` and expand its rule families into scored checks, checked against the dictionary.

A family (``required-fields``, ``recommended-fields``, ``refused-code``, ``code-table-values``,
``duplicates``) becomes one check per record type and field, code or record type; every other
rule is one check. Each check names the counters it reads: its problem token ``x:<id>`` and the
population tokens its denominator sums (see ``facade.quality.tokens``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field as dataclass_field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Field as DictField, Group, RecordType
from facade.errors import ConfigurationError
from facade.indicators.definitions import Text
from facade.native.codes import MESSAGES, Code
from facade.quality import tokens
from facade.quality.models import (
    AfterDeathRecords,
    AfterDeathStays,
    AfterFirstAssessment,
    AgeRange,
    CodeTableValues,
    Corrections,
    DailyDrop,
    DailyGap,
    Duplicates,
    Lag,
    Orphans,
    QualityConfig,
    RecommendedFields,
    RefusedCode,
    RequiredFields,
    RuleFile,
    RuleSpec,
    ScoreBands,
    Severity,
    WithinStay,
)
from facade.settings import Settings

CONFIG_FILE = "_config.yaml"
M = TypeVar("M", bound=BaseModel)


class QualityRuleError(ConfigurationError):
    """A data-quality rule file is malformed or disagrees with the dictionary; starts with ``file: key:``."""


@dataclass(frozen=True)
class Check:
    """One scored rule: a plain rule, or one member of an expanded family."""

    id: str
    spec: RuleSpec
    name: Text
    denominator: tuple[str, ...]
    record_type: str | None = None
    field: str | None = None  # ``name`` or ``group.name``
    code: str | None = None  # refused-code checks

    @property
    def problem(self) -> str:
        """The counter token of a record with this problem."""
        return tokens.problem(self.id)

    @property
    def dimension(self) -> str:
        """GB/T 36344 dimension id."""
        return self.spec.dimension

    @property
    def severity(self) -> Severity:
        """error, warning or info."""
        return self.spec.severity

    @property
    def threshold(self) -> float:
        """The highest problem rate that still passes."""
        return self.spec.threshold

    @property
    def daily(self) -> bool:
        """Whether the check is judged on daily volumes (its problems are dates, not records)."""
        return isinstance(self.spec, DailyGap | DailyDrop)

    def describe(self) -> dict[str, Any]:
        """The check as the rules catalogue shows it."""
        return {
            "id": self.id,
            "family": self.spec.id,
            "kind": self.spec.kind,
            "dimension": self.dimension,
            "kahn": self.spec.kahn.model_dump(exclude_none=True),
            "severity": self.severity,
            "threshold": self.threshold,
            "name": self.name.model_dump(),
            "description": self.spec.description.model_dump(),
            "recordType": self.record_type,
            "field": self.field,
        }


@dataclass(frozen=True)
class RuleSet:
    """Configuration, every rule as written and every check it expands to, in file order."""

    config: QualityConfig
    specs: tuple[RuleSpec, ...]
    checks: dict[str, Check]
    dictionary: Dictionary
    version: str  # e.g. "completeness:1,conformance:1,..." — which files the numbers came from
    _cache: dict[Any, Any] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def of_kind(self, kind: type[Any]) -> Iterator[Check]:
        """Checks expanded from rules of one model class."""
        key = ("kind", kind)
        if key not in self._cache:
            self._cache[key] = tuple(c for c in self.checks.values() if isinstance(c.spec, kind))
        found: tuple[Check, ...] = self._cache[key]
        return iter(found)

    def field_checks(self, kind: type[Any]) -> dict[tuple[str, str], Check]:
        """Checks of a per-field family by (record type, field path)."""
        key = ("fields", kind)
        if key not in self._cache:
            self._cache[key] = {(c.record_type or "", c.field or ""): c for c in self.of_kind(kind)}
        found: dict[tuple[str, str], Check] = self._cache[key]
        return found

    def concerning(self, record_type: str) -> tuple[Check, ...]:
        """Checks an accepted record of this type can count for (beside the refusal families)."""
        key = ("concerning", record_type)
        if key not in self._cache:
            self._cache[key] = tuple(
                c for c in self.checks.values() if _concerns(c, record_type, self.config)
            )
        found: tuple[Check, ...] = self._cache[key]
        return found

    def dependents(self, record_type: str) -> frozenset[str]:
        """Record types whose checks read sibling records of this type in the same stay."""
        key = ("dependents", record_type)
        if key not in self._cache:
            self._cache[key] = frozenset(
                name
                for c in self.of_kind(AfterFirstAssessment)
                if isinstance(c.spec, AfterFirstAssessment)
                and c.spec.assessment_type == record_type
                for name in c.spec.record_types
            )
        found: frozenset[str] = self._cache[key]
        return found

    def time_of(self, record_type: str) -> list[str]:
        """The fields a record type is dated by (the first present counts)."""
        return self.config.time_fields.get(record_type, [])


def _concerns(check: Check, record_type: str, config: QualityConfig) -> bool:
    spec = check.spec
    if isinstance(spec, RecommendedFields | Duplicates):
        return check.record_type == record_type
    if isinstance(spec, AgeRange | ScoreBands | Lag):
        return spec.record_type == record_type
    if isinstance(spec, WithinStay | AfterFirstAssessment | AfterDeathRecords):
        return record_type in spec.record_types
    if isinstance(spec, AfterDeathStays):
        return record_type == config.stay.record_type
    return isinstance(spec, Corrections)


@cache
def _cached(mappings_dir: Path) -> RuleSet:
    return load_rules(mappings_dir / "quality", load_dictionary(mappings_dir))


def rule_set(settings: Settings) -> RuleSet:
    """The rules of ``settings.mappings_dir`` (read once per process)."""
    return _cached(settings.mappings_dir)


def load_rules(directory: Path, dictionary: Dictionary) -> RuleSet:
    """Read ``_config.yaml`` and every rule file; raise QualityRuleError naming file and key."""
    if not directory.is_dir():
        raise QualityRuleError(f"{directory}: data-quality rule directory not found")
    config = _parse(QualityConfig, directory / CONFIG_FILE)
    _check_config(config, dictionary)
    specs: list[RuleSpec] = []
    versions: list[str] = [f"_config:{config.version}"]
    for path in sorted(directory.glob("*.yaml")):
        if path.name == CONFIG_FILE:
            continue
        parsed = _parse(RuleFile, path)
        versions.append(f"{path.stem}:{parsed.version}")
        for index, spec in enumerate(parsed.rules):
            where = f"{path.name}: rules[{index}]({spec.id})"
            _check_dimension(where, spec, config)
            specs.append(spec)
    checks: dict[str, Check] = {}
    for spec in specs:
        where = f"rule {spec.id}"
        try:
            expanded = list(_expand(spec, dictionary, config))
        except KeyError as exc:
            raise QualityRuleError(f"{where}: {exc.args[0]}") from exc
        for check in expanded:
            if check.id in checks:
                raise QualityRuleError(f"{where}: check id {check.id!r} is defined twice")
            checks[check.id] = check
    if not checks:
        raise QualityRuleError(f"{directory}: no rules")
    return RuleSet(config, tuple(specs), checks, dictionary, ",".join(versions))


# -- expansion


def _record_type(dictionary: Dictionary, name: str) -> RecordType:
    found = dictionary.record_types.get(name)
    if found is None:
        raise KeyError(f"unknown record type {name!r}")
    return found


def _field(rt: RecordType, path: str) -> tuple[Group | None, DictField | None]:
    """A top-level field, a group (field None) or ``group.field``; KeyError when unknown."""
    head, _, tail = path.partition(".")
    group = next((g for g in rt.groups if g.name == head), None)
    if group is not None:
        if not tail:
            return group, None
        item = next((f for f in group.fields if f.name == tail), None)
        if item is None:
            raise KeyError(f"{rt.record_type} has no field {path!r}")
        return group, item
    field = rt.field(head)
    if field is None or tail:
        raise KeyError(f"{rt.record_type} has no field {path!r}")
    return None, field


def _label(rt: RecordType, path: str) -> tuple[str, str]:
    group, field = _field(rt, path)
    zh = ".".join(x for x in ((group.zh if group else ""), (field.zh if field else "")) if x)
    en = " / ".join(x for x in ((group.en if group else ""), (field.en if field else "")) if x)
    return f"{rt.zh}·{zh}", f"{rt.en}: {en}"


def _member(spec: RuleSpec, rt: RecordType, path: str, denominator: tuple[str, ...]) -> Check:
    zh, en = _label(rt, path)
    return Check(
        f"{spec.id}.{rt.record_type}.{path}",
        spec,
        Text(zh=f"{spec.name.zh}：{zh}", en=f"{spec.name.en}: {en}"),
        denominator,
        record_type=rt.record_type,
        field=path,
    )


def refusable_fields(rt: RecordType) -> list[str]:
    """Field paths whose absence the dictionary refuses with 3001, in file order.

    Required and required_when fields, required groups, and fields other rules need: the
    ``other`` of ``requires`` and ``present-iff-true``, and the field carrying an ``either``.
    The protocol keys (recordId, recordVersion) are the gateway's and are left out.
    """
    found: list[str] = []

    def add(path: str) -> None:
        if path not in found:
            found.append(path)

    def scan(fields: list[DictField], prefix: str) -> None:
        for field in fields:
            if field.name in ("recordId", "recordVersion"):
                continue
            if field.required or field.required_when:
                add(prefix + field.name)
            for rule in field.rules:
                if rule.kind in ("requires", "present-iff-true") and rule.other:
                    sibling = any(f.name == rule.other for f in fields)
                    add((prefix if sibling else "") + rule.other)
                elif rule.kind == "either":
                    add(prefix + field.name)

    scan(rt.fields, "")
    for group in rt.groups:
        if group.required:
            add(group.name)
        scan(group.fields, group.name + ".")
    return found


def coded_fields(rt: RecordType) -> list[str]:
    """Field paths with a code table (3003 when a value is not in it)."""
    return [
        f"{group.name}.{field.name}" if group else field.name
        for group, field in rt.all_fields()
        if field.code_table
    ]


def _expand(spec: RuleSpec, dictionary: Dictionary, config: QualityConfig) -> Iterator[Check]:
    types = dictionary.record_types
    if isinstance(spec, RequiredFields):
        for rt in types.values():
            for path in refusable_fields(rt):
                yield _member(spec, rt, path, (tokens.received(rt.record_type),))
    elif isinstance(spec, CodeTableValues):
        for rt in types.values():
            for path in coded_fields(rt):
                yield _member(spec, rt, path, (tokens.received(rt.record_type),))
    elif isinstance(spec, RecommendedFields):
        for name, listed in spec.fields.items():
            rt = _record_type(dictionary, name)
            refused = refusable_fields(rt)
            for item in listed:
                _, field = _field(rt, item.field)
                if item.field in refused:
                    raise KeyError(
                        f"{name}.{item.field} is required: its absence is refused, not missed"
                    )
                if field is not None and not field.forwarded:
                    raise KeyError(f"{name}.{item.field} is not forwarded, so never stored")
                if item.when is not None:
                    _field(rt, item.when.present or item.when.field or "")
                population = tokens.accepted(name, item.when.key if item.when else None)
                yield _member(spec, rt, item.field, (population,))
    elif isinstance(spec, RefusedCode):
        everything = tuple(tokens.received(name) for name in types)
        for code in spec.codes:
            try:
                known = Code(code)
            except ValueError as exc:
                raise KeyError(f"unknown native code {code!r}") from exc
            yield Check(
                f"{spec.id}.{code}",
                spec,
                Text(
                    zh=f"{spec.name.zh}（{code} {MESSAGES[known]}）",
                    en=f"{spec.name.en} ({code})",
                ),
                everything,
                code=code,
            )
    elif isinstance(spec, Duplicates):
        for name, keys in spec.keys.items():
            rt = _record_type(dictionary, name)
            for key in keys:
                _field(rt, key)
            yield Check(
                f"{spec.id}.{name}",
                spec,
                Text(zh=f"{spec.name.zh}：{rt.zh}", en=f"{spec.name.en}: {rt.en}"),
                (tokens.accepted(name),),
                record_type=name,
            )
    elif isinstance(spec, Corrections):
        yield Check(spec.id, spec, spec.name, tuple(tokens.accepted(name) for name in types))
    elif isinstance(spec, Orphans):
        for name in spec.record_types:
            _check_linked(dictionary, config, name)
        yield Check(spec.id, spec, spec.name, tuple(tokens.received(n) for n in spec.record_types))
    else:
        _check_single(spec, dictionary, config)
        yield Check(spec.id, spec, spec.name, (tokens.applies(spec.id),))


def _check_single(spec: RuleSpec, dictionary: Dictionary, config: QualityConfig) -> None:
    """Record types and fields a single rule names exist (KeyError otherwise)."""
    if isinstance(spec, WithinStay | AfterDeathRecords):
        for name in spec.record_types:
            _check_linked(dictionary, config, name)
    elif isinstance(spec, AfterFirstAssessment):
        for name in spec.record_types:
            _field(_check_linked(dictionary, config, name), spec.time_field)
        _check_linked(dictionary, config, spec.assessment_type)
    elif isinstance(spec, AgeRange):
        rt = _record_type(dictionary, spec.record_type)
        _field(rt, spec.birth_field)
        _field(rt, spec.at_field)
    elif isinstance(spec, ScoreBands):
        rt = _record_type(dictionary, spec.record_type)
        for name in (spec.selector_field, spec.score_field, spec.level_field):
            _field(rt, name)
    elif isinstance(spec, Lag):
        _field(_record_type(dictionary, spec.record_type), spec.from_field)
    elif isinstance(spec, DailyGap | DailyDrop):
        if spec.record_type != config.stay.record_type:
            raise KeyError(f"daily volumes are counted on {config.stay.record_type!r} only")
    elif isinstance(spec, AfterDeathStays):
        pass


def _check_linked(dictionary: Dictionary, config: QualityConfig, name: str) -> RecordType:
    rt = _record_type(dictionary, name)
    if rt.field(config.stay.link_field) is None:
        raise KeyError(f"{name} does not link to a stay by {config.stay.link_field!r}")
    if not config.time_fields.get(name):
        raise KeyError(f"time_fields has no entry for {name!r}")
    return rt


def _check_config(config: QualityConfig, dictionary: Dictionary) -> None:
    stay = config.stay
    try:
        rt = _record_type(dictionary, stay.record_type)
        for name in (
            stay.admission_field,
            stay.discharge_field,
            stay.disposition_field,
            stay.patient_field,
        ):
            _field(rt, name)
        for name, fields in config.time_fields.items():
            owner = _record_type(dictionary, name)
            for field_name in fields:
                _, field = _field(owner, field_name)
                if field is None or field.type != "datetime":
                    raise KeyError(f"time_fields.{name}: {field_name!r} is not a date-time field")
    except KeyError as exc:
        raise QualityRuleError(f"{CONFIG_FILE}: {exc.args[0]}") from exc


def _check_dimension(where: str, spec: RuleSpec, config: QualityConfig) -> None:
    try:
        dimension = config.dimension(spec.dimension)
    except KeyError as exc:
        raise QualityRuleError(f"{where}.dimension: unknown dimension {spec.dimension!r}") from exc
    if spec.kahn.category not in dimension.kahn:
        raise QualityRuleError(
            f"{where}.kahn.category: {spec.kahn.category!r} is not allowed under {dimension.id} "
            f"(allowed: {', '.join(dimension.kahn)})"
        )


def _parse(model: type[M], path: Path) -> M:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise QualityRuleError(f"{path.name}: file not found") from exc
    except yaml.YAMLError as exc:
        raise QualityRuleError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise QualityRuleError(f"{path.name}: {where}: {first['msg']}") from exc
