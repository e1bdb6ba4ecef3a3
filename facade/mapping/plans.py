"""What a record becomes: planned transaction entries, their conditional URLs and stable fullUrls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from typing import Any, Protocol
from urllib.parse import quote

from facade.mapping.pathset import Json

# Names urn:uuid fullUrls after the conditional URL, so a plan is reproducible (golden files).
_FULL_URL_NAMESPACE = uuid.UUID("6f1c9a52-61a4-4c1e-9d0b-6a3c4b3f2e10")


class LinkFacts(Protocol):
    """Field values of other records the engine may need (the Patient of an assessment's case)."""

    def facts(self, record_type: str, key: str) -> Mapping[str, Any] | None:
        """Stored facts of the live record of ``record_type`` whose key is ``key``, if known."""
        ...


@dataclass(frozen=True)
class PlannedEntry:
    """One resource of a record, ready to be a transaction entry."""

    alias: str
    resource_type: str
    match_url: str
    full_url: str
    resource: Json

    def bundle_entry(self) -> Json:
        """The entry as it goes into a transaction Bundle."""
        return {
            "fullUrl": self.full_url,
            "resource": self.resource,
            "request": {"method": "PUT", "url": self.match_url},
        }


@dataclass(frozen=True)
class ItemSet:
    """Per-item resources of one group; a correction deletes stored ones beyond ``count``."""

    resource_type: str
    system: str
    prefix: str  # "<recordId>/<group>/"; the item number follows
    count: int
    owner_param: str  # search parameter of the item pointing at the record's main resource
    owner_system: str  # that main resource's key: identifier system ...
    owner_value: str  # ... and value


@dataclass(frozen=True)
class RecordPlan:
    """Everything one record becomes."""

    record_type: str
    record_id: str
    entries: list[PlannedEntry]
    items: list[ItemSet] = dc_field(default_factory=list)
    # Conditional URLs of main resources of *other* types this record could have produced (a
    # correction that changes a prophylaxis from a device to a drug must not leave the old one).
    alternates: list[str] = dc_field(default_factory=list)

    @property
    def main(self) -> PlannedEntry:
        """The record's main resource (the one keyed by its recordId)."""
        return self.entries[0]


def match_url(resource_type: str, system: str, value: str) -> str:
    """``Type?identifier=system|value`` with the token's reserved characters escaped."""
    escaped = (
        value.replace("\\", "\\\\").replace("|", "\\|").replace(",", "\\,").replace("$", "\\$")
    )
    return (
        f"{resource_type}?identifier={quote(system, safe=':/.-_')}|{quote(escaped, safe=':/.-_')}"
    )


def full_url(conditional: str) -> str:
    """A stable ``urn:uuid`` for the entry with this conditional URL."""
    return f"urn:uuid:{uuid.uuid5(_FULL_URL_NAMESPACE, conditional)}"
