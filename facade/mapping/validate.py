"""Per-field validation of a native record against the dictionary: every problem, with native codes.

``validate_record`` is shared by the native gateway's record processor and the Excel import. Each
problem becomes an ``Issue`` whose ``location`` is ``<prefix>.<field>`` (``records[3].dischargeDateTime``,
``records[3].diagnoses[0].icd10Code``) and whose ``native_code`` is the VTE-X code:
3001 missing, 3002 type/format/range, 3003 not in the code table, 3004 too long or too many items,
3005 logic rule, 3007 resident-ID check digit. Messages name the rule, never the submitted value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Field, Group, RecordType
from facade.errors import Issue
from facade.mapping import rules, values
from facade.mapping.values import BadValue, Scalar
from facade.privacy.identity import RESIDENT_ID_TYPE, resident_id_valid
from facade.settings import Settings

_RESIDENT_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
Linked = Mapping[str, Mapping[str, Any] | None]


def default_dictionary() -> Dictionary:
    """The dictionary of the default ``mappings/`` directory (for callers without settings at hand)."""
    folder = Settings.model_fields["mappings_dir"].get_default(call_default_factory=True)
    return _cached(Path(folder))


@cache
def _cached(folder: Path) -> Dictionary:
    return load_dictionary(folder)


def location(prefix: str, name: str) -> str:
    """``prefix.name``, or just ``name`` without a prefix."""
    return f"{prefix}.{name}" if prefix else name


def issue(where: str, code: str, rule: str, message: str, severity: str = "error") -> Issue:
    """An Issue with a native code (the FHIR side does not read these)."""
    return Issue(where, rule, message, native_code=code, severity=severity)


def validate_record(
    record_type: str | RecordType,
    record: Any,
    location_prefix: str = "",
    *,
    dictionary: Dictionary | None = None,
    envelope: Mapping[str, str] | None = None,
    linked: Linked | None = None,
) -> list[Issue]:
    """Every problem of one record of ``record_type`` (empty when it is valid).

    ``envelope`` (e.g. ``{"orgCode": ...}``) enables the equals-envelope rules; ``linked`` maps a
    linking field (``caseRecordId``) to the stored facts of the record it names, enabling the
    cross-record rules (assessment inside its stay). Without them those rules are skipped, and
    whether a linked record exists at all (3006) is the caller's check.
    """
    d = dictionary or default_dictionary()
    rt = d.record_types[record_type] if isinstance(record_type, str) else record_type
    if not isinstance(record, Mapping):
        return [issue(location_prefix or "record", "3002", "record-object", "记录须为 JSON 对象")]
    check = _Check(d, rt, location_prefix, envelope, linked)
    check.record(record)
    return check.issues


def unknown_fields(
    rt: RecordType, record: Mapping[str, Any], location_prefix: str = ""
) -> list[Issue]:
    """Warnings for members the dictionary does not define (ignored and never stored)."""
    known = {f.name for f in rt.fields} | {g.name for g in rt.groups}
    found = [
        issue(
            location(location_prefix, _safe(k)),
            "3002",
            "unknown-field",
            "未知字段，已忽略",
            "warning",
        )
        for k in sorted(set(record) - known)
    ]
    for group in rt.groups:
        items = record.get(group.name)
        if not isinstance(items, list):
            continue
        own = {f.name for f in group.fields}
        for n, item in enumerate(items):
            if isinstance(item, Mapping):
                where = location(location_prefix, f"{group.name}[{n}]")
                found += [
                    issue(
                        location(where, _safe(k)),
                        "3002",
                        "unknown-field",
                        "未知字段，已忽略",
                        "warning",
                    )
                    for k in sorted(set(item) - own)
                ]
    return found


def _safe(name: Any) -> str:
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text) else "?"


class _Check:
    """One validation run; collects issues instead of stopping at the first."""

    def __init__(
        self,
        dictionary: Dictionary,
        rt: RecordType,
        prefix: str,
        envelope: Mapping[str, str] | None,
        linked: Linked | None,
    ) -> None:
        self.d = dictionary
        self.rt = rt
        self.prefix = prefix
        self.envelope = envelope
        self.linked = linked
        self.issues: list[Issue] = []

    def record(self, record: Mapping[str, Any]) -> None:
        top = self.parse(self.rt.fields, record, self.prefix)
        self.missing(self.rt.fields, record, top, self.prefix)
        groups: dict[str, list[dict[str, Scalar]]] = {}
        for group in self.rt.groups:
            groups[group.name] = self.group(group, record.get(group.name), top)
        self.identity(self.rt.fields, top, self.prefix)
        given = _given(record, [f.name for f in self.rt.fields] + [g.name for g in self.rt.groups])
        scope = rules.Scope(
            self.d, self.rt, top, groups, self.envelope, self.linked, self.prefix, given
        )
        for field in self.rt.fields:
            where = location(self.prefix, field.name)
            self.issues += scope.check(field, top, where, self.prefix, self.rt.fields)

    def parse(
        self, fields: list[Field], source: Mapping[str, Any], prefix: str
    ) -> dict[str, Scalar]:
        parsed: dict[str, Scalar] = {}
        for field in fields:
            raw = source.get(field.name)
            if values.is_absent(raw):
                continue
            where = location(prefix, field.name)
            try:
                value = values.normalise(field, raw)
            except BadValue as bad:
                self.issues.append(issue(where, bad.code, bad.rule, f"{field.zh}{bad.message}"))
                continue
            problem = self.domain(field, value)
            if problem is not None:
                self.issues.append(issue(where, *problem))
                continue
            parsed[field.name] = value
        return parsed

    def domain(self, field: Field, value: Scalar) -> tuple[str, str, str] | None:
        """Length, pattern, code table and range, in that order; (code, rule, message) of the first broken."""
        if isinstance(value, str):
            if field.max_length is not None and len(value) > field.max_length:
                return "3004", "max-length", f"{field.zh}不得超过 {field.max_length} 个字符"
            if field.pattern and not re.fullmatch(field.pattern, value):
                return "3002", "pattern", f"{field.zh}格式不符合规则"
        if field.code_table:
            table = self.d.code_table(field.code_table)
            if table.concept(str(value)) is None:
                return "3003", "code-table", f"{field.zh}取值不在代码表 {table.id} 内"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if field.minimum is not None and value < field.minimum:
                return "3002", "minimum", f"{field.zh}不得小于 {field.minimum:g}"
            if field.maximum is not None and value > field.maximum:
                return "3002", "maximum", f"{field.zh}不得大于 {field.maximum:g}"
        return None

    def missing(
        self,
        fields: list[Field],
        source: Mapping[str, Any],
        parsed: Mapping[str, Scalar],
        prefix: str,
    ) -> None:
        for field in fields:
            if not values.is_absent(source.get(field.name)):
                continue
            when = field.required_when
            needed = field.required or (when is not None and parsed.get(when.field) in when.codes)
            if needed:
                self.issues.append(
                    issue(location(prefix, field.name), "3001", "required", f"{field.zh}必填")
                )

    def identity(self, fields: list[Field], parsed: Mapping[str, Scalar], prefix: str) -> None:
        """A 居民身份证 number (type 01) has 18 characters and a correct GB 11643 check digit."""
        for field in fields:
            number = parsed.get(field.name)
            if field.type != "identity-number" or not isinstance(number, str):
                continue
            if parsed.get(field.id_type_field or "") != RESIDENT_ID_TYPE:
                continue
            where = location(prefix, field.name)
            if not _RESIDENT_SHAPE.fullmatch(number.upper()):
                self.issues.append(
                    issue(
                        where,
                        "3002",
                        "resident-id-format",
                        "居民身份证号须为 17 位数字加 1 位校验码",
                    )
                )
            elif not resident_id_valid(number):
                self.issues.append(
                    issue(
                        where,
                        "3007",
                        "resident-id-check-digit",
                        "身份证件号码校验位错误（GB 11643）",
                    )
                )

    def group(self, group: Group, raw: Any, top: dict[str, Scalar]) -> list[dict[str, Scalar]]:
        where = location(self.prefix, group.name)
        if raw is None or raw == []:
            if group.required:
                self.issues.append(issue(where, "3001", "required", f"{group.zh}至少一项"))
            return []
        if not isinstance(raw, list):
            self.issues.append(issue(where, "3002", "type", f"{group.zh}须为数组"))
            return []
        if len(raw) > group.max_items:
            self.issues.append(
                issue(where, "3004", "max-items", f"{group.zh}不得超过 {group.max_items} 项")
            )
        parsed_items: list[dict[str, Scalar]] = []
        for n, item in enumerate(raw):
            item_where = f"{where}[{n}]"
            if not isinstance(item, Mapping):
                self.issues.append(
                    issue(item_where, "3002", "type", f"{group.zh}的每一项须为 JSON 对象")
                )
                continue
            parsed = self.parse(group.fields, item, item_where)
            self.missing(group.fields, item, parsed, item_where)
            if all(values.is_absent(item.get(f.name)) for f in group.fields):
                self.issues.append(
                    issue(item_where, "3001", "empty-item", f"{group.zh}的一项不得为空")
                )
            self.identity(group.fields, parsed, item_where)
            scope = rules.Scope(
                self.d,
                self.rt,
                top,
                {},
                self.envelope,
                self.linked,
                self.prefix,
                local_given=_given(item, [f.name for f in group.fields]),
            )
            for field in group.fields:
                field_where = location(item_where, field.name)
                self.issues += scope.check(field, parsed, field_where, item_where, group.fields)
            parsed_items.append(parsed)
        return parsed_items


def _given(source: Mapping[str, Any], names: list[str]) -> frozenset[str]:
    """Names with a value in ``source`` (empty strings, nulls and empty arrays count as not sent)."""
    return frozenset(
        n for n in names if not values.is_absent(source.get(n)) and source.get(n) != []
    )
