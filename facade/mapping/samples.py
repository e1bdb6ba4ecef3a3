"""Valid native records generated from the dictionary's own field definitions.

Every choice goes through a ``Chooser``, so the same generator serves property-based tests
(hypothesis draws, in the test-suite) and deterministic loads (``RandomChooser``, seeded). It
honours types, formats, code tables, lengths, ranges, ``required``/``required_when``, ``when``
(fields of resources the record does not produce are left out) and every rule kind: date-times
are drawn in an order that satisfies ``not-before``/``not-after`` (inside the linked record's
window when its facts are given), ``requires``/``present-iff-true`` decide presence, and
``property-matches``/``one-of``/``equals-envelope`` narrow the choices.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from facade.dictionary.models import Field, Group, RecordType, Rule
from facade.mapping.engine import MappingEngine
from facade.mapping.rules import linked_record_type
from facade.mapping.values import NATIVE_DATE, NATIVE_DATETIME
from facade.privacy.identity import RESIDENT_ID_TYPE

T = TypeVar("T")
_EPOCH = datetime(2015, 1, 1)
_SPAN_MINUTES = 15 * 365 * 24 * 60
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_TEXT = string.ascii_letters + string.digits + "住院科病区骨外内ICU一二三 -_.()"


class Chooser(Protocol):
    """The source of every choice the generator makes."""

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        ...

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (never empty)."""
        ...

    def text(self, max_length: int) -> str:
        """Non-empty text without surrounding whitespace or control characters."""
        ...

    def pattern(self, field: Field) -> str:
        """A value of ``field`` matching its ``pattern`` and ``max_length``."""
        ...


class RandomChooser:
    """Seeded pseudo-random choices; pattern fields take the dictionary's example value."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 - test data, not secrets

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.random.randrange(len(options))]

    def text(self, max_length: int) -> str:
        size = self.random.randint(1, min(max_length, 12))
        return "".join(self.random.choice(_TEXT) for _ in range(size)).strip() or "x"

    def pattern(self, field: Field) -> str:
        if field.example is None:
            raise ValueError(
                f"{field.name}: give a value (override) for a pattern field without example"
            )
        return str(field.example)


def resident_id(chooser: Chooser) -> str:
    """A 居民身份证 number with a correct GB 11643 check digit."""
    born = _EPOCH.date() - timedelta(days=chooser.integer(6000, 33000))
    first = f"{chooser.integer(110000, 659999)}{born:%Y%m%d}{chooser.integer(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(first, _ID_WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


def generate_record(
    engine: MappingEngine,
    rt: RecordType,
    chooser: Chooser,
    *,
    org_code: str,
    overrides: Mapping[str, Any] | None = None,
    linked: Mapping[str, Mapping[str, Any]] | None = None,
    max_items: int = 3,
) -> dict[str, Any]:
    """One valid record of ``rt``; ``overrides`` fix top-level values, ``linked`` gives linked facts."""
    return _Generator(
        engine, rt, chooser, org_code, dict(overrides or {}), linked or {}, max_items
    ).record()


class _Generator:
    def __init__(
        self,
        engine: MappingEngine,
        rt: RecordType,
        chooser: Chooser,
        org_code: str,
        overrides: dict[str, Any],
        linked: Mapping[str, Mapping[str, Any]],
        max_items: int,
    ) -> None:
        self.e = engine
        self.rt = rt
        self.c = chooser
        self.org = org_code
        self.overrides = overrides
        self.linked = linked
        self.max_items = max_items

    def record(self) -> dict[str, Any]:
        record = self.scope(self.rt.fields, {}, top=True)
        for group in self.rt.groups:
            items = self.items(group, record)
            if items:
                record[group.name] = items
        return record

    # -- presence and values -----------------------------------------------------------------------

    def scope(self, fields: list[Field], outer: Mapping[str, Any], *, top: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in fields:
            if top and field.name in self.overrides:
                values[field.name] = self.overrides[field.name]
            elif field.type not in ("date", "datetime") and self.wanted(field, values, top):
                value = self.value(field, values, outer)
                if value is not None:
                    values[field.name] = value
        self.moments(fields, values, top)
        self.requirements(fields, values, outer)
        if top:  # fields of resources this record does not produce (another category) are left out
            kept = {f.name for f in fields if not f.forwarded or self.e.applies(self.rt, f, values)}
            values = {k: v for k, v in values.items() if k in kept}
        return values

    def wanted(self, field: Field, values: Mapping[str, Any], top: bool) -> bool:
        del top
        when = field.required_when
        if field.required or (when is not None and values.get(when.field) in when.codes):
            return True
        return self.c.integer(0, 2) > 0

    def value(self, field: Field, here: Mapping[str, Any], outer: Mapping[str, Any]) -> Any:
        kind = field.type
        rules: dict[str, Rule] = {rule.kind: rule for rule in field.rules}
        if "equals-envelope" in rules:
            return self.org
        if kind == "code" and field.code_table:
            options = self.codes(field, rules, here, outer)
            return self.c.choice(options) if options else None
        if kind in ("string", "code", "identity-number"):
            if (
                kind == "identity-number"
                and here.get(field.id_type_field or "") == RESIDENT_ID_TYPE
            ):
                return resident_id(self.c)
            if field.pattern:
                return self.c.pattern(field)
            return self.c.text(field.max_length or 20)
        if kind == "boolean":
            allowed = rules["one-of"].values if "one-of" in rules else [True, False]
            return self.c.choice([bool(v) for v in allowed or [True]])
        return self.number(field)

    def codes(
        self,
        field: Field,
        rules: Mapping[str, Rule],
        here: Mapping[str, Any],
        outer: Mapping[str, Any],
    ) -> list[str]:
        table = self.e.dictionary.code_table(field.code_table or "")
        options = list(table.concepts)
        one_of = rules.get("one-of")
        if one_of is not None:
            key = one_of.property
            options = [
                c
                for c in options
                if (c.properties.get(key) if key else c.code) in (one_of.values or [])
            ]
        matches = rules.get("property-matches")
        if matches is not None:
            other_name = matches.other or ""
            other = here.get(other_name, outer.get(other_name))
            other_field = next((f for f in self.rt.fields if f.name == other_name), None)
            wanted = other
            if other_field is not None and other_field.code_table:
                other_table = self.e.dictionary.code_table(other_field.code_table)
                if matches.property in {p.code for p in other_table.properties}:
                    concept = other_table.concept(str(other))
                    wanted = concept.properties.get(matches.property or "") if concept else None
            options = [c for c in options if c.properties.get(matches.property or "") == wanted]
        return [c.code for c in options]

    def number(self, field: Field) -> int | float:
        low = int((field.minimum if field.minimum is not None else 0) * 10)
        high = int((field.maximum if field.maximum is not None else 1000) * 10)
        if field.type == "integer":
            return self.c.integer(low // 10, high // 10)
        tenths = self.c.integer(low, high)
        return tenths // 10 if tenths % 10 == 0 else tenths / 10

    # -- date-times in rule order ------------------------------------------------------------------

    def moments(self, fields: list[Field], values: dict[str, Any], top: bool) -> None:
        chosen = [
            f
            for f in fields
            if f.type in ("date", "datetime")
            and f.name not in values
            and self.wanted(f, values, top)
        ]
        low, high = self.window(chosen)
        order = _ordered(chosen)
        span = max(int((high - low).total_seconds() // 60), 0)
        offsets = sorted(self.c.integer(0, span) for _ in order)
        for field, minutes in zip(order, offsets, strict=True):
            moment = low + timedelta(minutes=minutes)
            values[field.name] = moment.strftime(
                NATIVE_DATE if field.type == "date" else NATIVE_DATETIME
            )

    def window(self, fields: list[Field]) -> tuple[datetime, datetime]:
        low, high = _EPOCH, _EPOCH + timedelta(minutes=_SPAN_MINUTES)
        for field in fields:
            for rule in field.rules:
                facts = self.linked.get(rule.linked or "")
                value = (facts or {}).get(rule.other or "")
                if not rule.linked or not value or linked_record_type(self.rt, rule.linked) is None:
                    continue
                moment = datetime.strptime(str(value), NATIVE_DATETIME)
                if rule.kind == "not-before":
                    low = max(low, moment)
                else:
                    high = min(high, moment)
        return low, max(low, high)

    # -- presence rules ----------------------------------------------------------------------------

    def requirements(
        self, fields: list[Field], values: dict[str, Any], outer: Mapping[str, Any]
    ) -> None:
        for field in fields:
            for rule in field.rules:
                other = rule.other or ""
                if rule.kind == "requires" and field.name in values and other not in values:
                    target = next((f for f in fields if f.name == other), None)
                    if target is not None:
                        value = self.value(target, values, outer)
                        if value is not None:
                            values[other] = value
                if rule.kind == "either" and field.name not in values and other not in values:
                    value = self.value(field, values, outer)
                    if value is not None:
                        values[field.name] = value

    def items(self, group: Group, record: dict[str, Any]) -> list[dict[str, Any]]:
        forced: bool | None = None
        for field in self.rt.fields:
            for rule in field.rules:
                if (
                    rule.kind == "present-iff-true"
                    and rule.other == group.name
                    and field.name in record
                ):
                    forced = bool(record[field.name])
        if forced is False:
            return []
        low = 1 if group.required or forced else 0
        count = self.c.integer(low, min(group.max_items, max(self.max_items, low)))
        items = []
        for _ in range(count):
            item = self.scope(group.fields, record, top=False)
            if not item:  # every field optional and none drawn: an empty item is invalid
                item = self.scope([_required(group.fields[-1])], record, top=False)
            items.append(item)
        return items


def _required(field: Field) -> Field:
    return field.model_copy(update={"required": True})


def _ordered(fields: list[Field]) -> list[Field]:
    """Fields so that each comes after those it must not precede (not-before) and before the others."""
    names = {f.name for f in fields}
    after: dict[str, set[str]] = {f.name: set() for f in fields}
    for field in fields:
        for rule in field.rules:
            if rule.linked or rule.other not in names:
                continue
            if rule.kind == "not-before":
                after[field.name].add(rule.other or "")
            elif rule.kind == "not-after":
                after[rule.other or ""].add(field.name)
    ordered: list[Field] = []
    placed: set[str] = set()
    while len(ordered) < len(fields):
        ready = [f for f in fields if f.name not in placed and after[f.name] <= placed]
        if not ready:
            raise ValueError("the not-before/not-after rules form a cycle")
        ordered.append(ready[0])
        placed.add(ready[0].name)
    return ordered
