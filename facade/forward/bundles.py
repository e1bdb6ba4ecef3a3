"""Transaction Bundles from record plans: bounded in size, one record never split, no key twice.

Within a Bundle a conditional reference whose target travels in the same Bundle is rewritten to
that entry's ``fullUrl`` (HAPI resolves conditional references against stored data only), so a
case and the assessments that refer to it can be written in one transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from facade.mapping.engine import RecordPlan
from facade.native.receipts import ClaimedRecord

Json = dict[str, Any]


@dataclass
class Planned:
    """A claimed record with what it becomes, plus entries deleting its stale items."""

    claimed: ClaimedRecord
    plan: RecordPlan
    deletes: list[Json] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Entries this record puts into a Bundle."""
        return len(self.plan.entries) + len(self.deletes)

    @property
    def keys(self) -> set[str]:
        """Conditional URLs of its resources (one resource may appear once per transaction)."""
        return {entry.match_url for entry in self.plan.entries}


@dataclass
class Transaction:
    """Records written together, and where each one's main resource sits in the Bundle."""

    records: list[Planned]

    def bundle(self) -> tuple[Json, list[int]]:
        """The transaction Bundle and, per record, the index of its main entry."""
        entries: list[Json] = []
        mains: list[int] = []
        for planned in self.records:
            entries.extend(planned.deletes)
            mains.append(len(entries))
            entries.extend(copy.deepcopy(e.bundle_entry()) for e in planned.plan.entries)
        local = {entry.match_url: entry.full_url for p in self.records for entry in p.plan.entries}
        point_at_entries(entries, local)
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, mains


def point_at_entries(entries: list[Json], local: dict[str, str]) -> None:
    """Make references that are match URLs of entries in the same transaction (``local``: match
    URL → fullUrl) point at those entries' fullUrls, in place."""
    for entry in entries:
        if "resource" in entry:
            _rewrite(entry["resource"], local)


def _rewrite(node: Any, local: dict[str, str]) -> None:
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference in local:
            node["reference"] = local[reference]
        for value in node.values():
            _rewrite(value, local)
    elif isinstance(node, list):
        for value in node:
            _rewrite(value, local)


def transactions(planned: Iterable[Planned], max_entries: int) -> list[Transaction]:
    """Records in order, cut into transactions of at most ``max_entries`` entries.

    A record larger than the bound travels alone (its resources must be written atomically), and
    a record touching a resource already in the current transaction starts a new one.
    """
    found: list[Transaction] = []
    current: list[Planned] = []
    size = 0
    keys: set[str] = set()
    for record in planned:
        if current and (size + record.size > max_entries or record.keys & keys):
            found.append(Transaction(current))
            current, size, keys = [], 0, set()
        current.append(record)
        size += record.size
        keys |= record.keys
    if current:
        found.append(Transaction(current))
    return found
