"""A valid native record → the prepared payload that is stored and later forwarded.

Preparing keeps exactly what goes to FHIR: values normalised (strings trimmed, numbers as numbers,
booleans as booleans), identity numbers replaced by the regional pseudonym
(``facade.privacy.regional_pseudonym`` under the regional key — the same function the FHIR door
uses), and nothing else: fields with ``forwarded: false`` (the patient's name, recordVersion),
members the dictionary does not know and fields that do not apply to this record (a drug dose
on a mechanical measure) are dropped, the last two with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facade.dictionary.models import Field, RecordType
from facade.errors import Issue
from facade.mapping import values
from facade.mapping.engine import MappingEngine
from facade.mapping.validate import issue, location, unknown_fields
from facade.privacy.pseudonym import regional_pseudonym


def _kept(fields: list[Field], source: Mapping[str, Any]) -> dict[str, Any]:
    return {
        f.name: values.normalise(f, source[f.name])
        for f in fields
        if f.forwarded and not values.is_absent(source.get(f.name))
    }


def prepare_payload(
    engine: MappingEngine, rt: RecordType, record: Mapping[str, Any], pseudonym_key: bytes
) -> tuple[dict[str, Any], list[str]]:
    """The prepared payload of a record that passed ``validate_record``, and the fields it ignored.

    Raises ``BadValue`` if the record was not validated first.
    """
    top = _kept(rt.fields, record)
    ignored = [name for name in top if not engine.applies(rt, _field(rt, name), top)]
    payload = {k: v for k, v in top.items() if k not in ignored}
    for field in rt.fields:
        if field.type == "identity-number" and field.name in payload:
            id_type = str(payload.get(field.id_type_field or "", ""))
            payload[field.name] = regional_pseudonym(
                id_type, str(payload[field.name]), pseudonym_key
            )
    for group in rt.groups:
        items = record.get(group.name)
        if isinstance(items, list) and items:
            payload[group.name] = [_kept(group.fields, item) for item in items]
    return payload, ignored


def _field(rt: RecordType, name: str) -> Field:
    found = rt.field(name)
    if found is None:  # pragma: no cover - _kept only returns names of rt.fields
        raise KeyError(name)
    return found


def warnings(
    rt: RecordType, record: Mapping[str, Any], ignored: list[str], prefix: str
) -> list[Issue]:
    """What the sender should know although the record was accepted."""
    found = unknown_fields(rt, record, prefix)
    found += [
        issue(
            location(prefix, name),
            "3002",
            "not-applicable",
            "该字段不适用于本记录（类别不符），已忽略",
            "warning",
        )
        for name in ignored
    ]
    return found
