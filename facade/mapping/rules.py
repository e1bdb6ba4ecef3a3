"""The dictionary's logic rules (native 3005, plus 3001 for a field another one requires).

Kinds: ``not-before`` / ``not-after`` (date-times, also against a linked record's field),
``requires`` (this present ⇒ other present), ``present-iff-true`` (other present exactly when this
boolean is true), ``property-matches`` (this code's concept property equals the other field's
value or property), ``one-of`` (the value, or its concept property, is one of ``values``) and
``equals-envelope`` (equals a member of the request envelope, e.g. orgCode) and ``either``
(this field or the other one is present).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field, RecordType, Rule
from facade.errors import Issue
from facade.mapping import values
from facade.mapping.values import Scalar


def _where(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _logic(where: str, rule: Rule) -> Issue:
    """3005: the rule does not hold (message in Chinese; the rule id is the issue's ``rule``)."""
    return Issue(where, rule.id, f"逻辑校验失败：{rule.zh}（规则 {rule.id}）", native_code="3005")


def _missing(where: str, rule: Rule) -> Issue:
    """3001: the rule needs a field that is absent."""
    return Issue(where, rule.id, f"必填字段缺失：{rule.zh}（规则 {rule.id}）", native_code="3001")


def _moment(field: Field | None, value: Any) -> date | None:
    """A date-time or date value as a comparable object (date-times stay date-times)."""
    if field is None or not isinstance(value, str) or field.type not in ("date", "datetime"):
        return None
    try:
        return values.moment(field.type, value)
    except ValueError:
        return None


def _before(left: date, right: date) -> bool:
    """``left < right``, comparing a date with a date-time by calendar day."""
    if isinstance(left, datetime) != isinstance(right, datetime):
        left = left.date() if isinstance(left, datetime) else left
        right = right.date() if isinstance(right, datetime) else right
    return left < right


def linked_record_type(rt: RecordType, linking_field: str) -> str | None:
    """The record type whose key ``linking_field`` holds (from the resources' references)."""
    for spec in rt.resources:
        for ref in spec.references:
            if ref.by_field == linking_field and ref.record_type:
                return ref.record_type
    return None


class Scope:
    """The values a rule may look at: its own record (or item), the record around it, the envelope."""

    def __init__(
        self,
        dictionary: Dictionary,
        rt: RecordType,
        top: Mapping[str, Scalar],
        groups: Mapping[str, list[dict[str, Scalar]]],
        envelope: Mapping[str, str] | None,
        linked: Mapping[str, Mapping[str, Any] | None] | None,
        prefix: str = "",
        given: frozenset[str] = frozenset(),
        local_given: frozenset[str] | None = None,
    ) -> None:
        self.d = dictionary
        self.rt = rt
        self.top = top
        self.groups = groups
        self.envelope = envelope
        self.linked = linked
        self.prefix = prefix
        self.given = given  # members of the record that were sent, valid or not
        self.local_given = given if local_given is None else local_given  # ... of the item

    def check(
        self,
        field: Field,
        local: Mapping[str, Scalar],
        where: str,
        local_prefix: str,
        here: list[Field],
    ) -> list[Issue]:
        """Issues of ``field``'s rules; ``local`` holds the values next to it (its record or item)."""
        found: list[Issue] = []
        value = local.get(field.name)
        for rule in field.rules:
            if rule.kind in ("not-before", "not-after"):
                found += self.order(field, value, rule, local, where, here)
            elif rule.kind == "requires":
                if value is not None and not self.present(rule.other or "", local, here):
                    other = self.other_where(rule.other or "", local_prefix, here)
                    found.append(_missing(other, rule))
            elif rule.kind == "either":
                if not self.present(field.name, local, here) and not self.present(
                    rule.other or "", local, here
                ):
                    found.append(_missing(where, rule))
            elif rule.kind == "present-iff-true":
                found += self.iff(value, rule, local, local_prefix, here)
            elif rule.kind == "property-matches":
                if value is not None and not self.property_matches(field, value, rule, local, here):
                    found.append(_logic(where, rule))
            elif rule.kind == "one-of":
                if value is not None and self.candidate(field, value, rule.property) not in (
                    rule.values or []
                ):
                    found.append(_logic(where, rule))
            elif rule.kind == "equals-envelope":
                expected = (self.envelope or {}).get(rule.envelope or "")
                if value is not None and expected is not None and value != expected:
                    found.append(_logic(where, rule))
        return found

    def lookup(
        self, name: str, local: Mapping[str, Scalar], here: list[Field]
    ) -> tuple[Field | None, Scalar | None]:
        """The field ``name`` and its value: a sibling first, else a top-level field of the record."""
        sibling = next((f for f in here if f.name == name), None)
        if sibling is not None:
            return sibling, local.get(name)
        return self.rt.field(name), self.top.get(name)

    def present(self, name: str, local: Mapping[str, Scalar], here: list[Field]) -> bool:
        """Whether ``name`` was sent (a value that broke its own rule still counts as sent)."""
        if any(f.name == name for f in here):
            return name in self.local_given or local.get(name) is not None
        if name in self.groups or self.rt.field(name) is not None:
            return (
                name in self.given or self.top.get(name) is not None or bool(self.groups.get(name))
            )
        return False

    def other_where(self, name: str, local_prefix: str, here: list[Field]) -> str:
        return _where(local_prefix if any(f.name == name for f in here) else self.prefix, name)

    def order(
        self,
        field: Field,
        value: Scalar | None,
        rule: Rule,
        local: Mapping[str, Scalar],
        where: str,
        here: list[Field],
    ) -> list[Issue]:
        mine = _moment(field, value)
        if mine is None:
            return []
        if rule.linked:
            facts = (self.linked or {}).get(rule.linked)
            target = linked_record_type(self.rt, rule.linked)
            if facts is None or target is None:
                return []
            other_field = self.d.record_types[target].field(rule.other or "")
            theirs = _moment(other_field, facts.get(rule.other or ""))
        else:
            other_field, other_value = self.lookup(rule.other or "", local, here)
            theirs = _moment(other_field, other_value)
        if theirs is None:
            return []
        broken = _before(mine, theirs) if rule.kind == "not-before" else _before(theirs, mine)
        if not broken:
            return []
        return [_logic(where, rule)]

    def iff(
        self,
        value: Scalar | None,
        rule: Rule,
        local: Mapping[str, Scalar],
        local_prefix: str,
        here: list[Field],
    ) -> list[Issue]:
        if value is None:
            return []
        has_other = self.present(rule.other or "", local, here)
        other = self.other_where(rule.other or "", local_prefix, here)
        if value is True and not has_other:
            return [_missing(other, rule)]
        if value is False and has_other:
            return [_logic(other, rule)]
        return []

    def concept_property(self, field: Field | None, value: Scalar, prop: str) -> Any:
        if field is None or not field.code_table:
            return None
        concept = self.d.code_table(field.code_table).concept(str(value))
        return None if concept is None else concept.properties.get(prop)

    def candidate(self, field: Field, value: Scalar, prop: str | None) -> Any:
        return value if prop is None else self.concept_property(field, value, prop)

    def property_matches(
        self,
        field: Field,
        value: Scalar,
        rule: Rule,
        local: Mapping[str, Scalar],
        here: list[Field],
    ) -> bool:
        prop = rule.property or ""
        mine = self.concept_property(field, value, prop)
        other_field, other_value = self.lookup(rule.other or "", local, here)
        if mine is None or other_value is None:
            return True  # nothing to compare: another rule reports the missing part
        table = (
            self.d.code_table(other_field.code_table)
            if other_field and other_field.code_table
            else None
        )
        declares = table is not None and prop in {p.code for p in table.properties}
        theirs = self.concept_property(other_field, other_value, prop) if declares else other_value
        return bool(mine == theirs)
