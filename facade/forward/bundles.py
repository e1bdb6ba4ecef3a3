"""Transaction Bundles from record plans: bounded in size, one record never split, no key twice.

Each record's entries are written under the ids of the round (``facade.forward.ids``): ``PUT
Type/<id>`` with references to other records as literal ``Type/<id>``, or conditional URLs
while an installation is still on the conditional scheme. Within a Bundle a reference to a
resource that travels in the same Bundle is rewritten to that entry's ``fullUrl``, so a case
and the assessments that refer to it can be written in one transaction.

A transaction also knows what it *writes* (request URLs) and what it *reads* (references
leaving it): two transactions may be in flight together only when neither writes what the other
writes or reads (``Keys.conflicts``), which keeps a record, its later versions and the records
linking to it in order while unrelated ones are written concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from facade.forward.ids import Ids, identity_of_reference, identity_type
from facade.mapping.engine import RecordPlan
from facade.native.receipts import ClaimedRecord

Json = dict[str, Any]


@dataclass(frozen=True)
class Keys:
    """What a transaction writes and what it reads (resource URLs as sent)."""

    writes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()

    def conflicts(self, other: Keys) -> bool:
        """Whether the two must not be in flight at the same time."""
        return bool(
            self.writes & other.writes or self.writes & other.reads or self.reads & other.writes
        )


@dataclass
class Planned:
    """A claimed record with what it becomes, plus entries deleting its stale items."""

    claimed: ClaimedRecord
    plan: RecordPlan
    deletes: list[Json] = field(default_factory=list)
    entries: list[Json] = field(default_factory=list)  # filled by ``address``
    keys: Keys = field(default_factory=Keys)

    @property
    def size(self) -> int:
        """Entries this record puts into a Bundle."""
        return len(self.plan.entries) + len(self.deletes)

    def identities(self) -> set[str]:
        """Every identity URL this record writes, deletes or references."""
        found = {entry.match_url for entry in self.plan.entries}
        found.update(d["request"]["url"] for d in self.deletes)
        for entry in self.plan.entries:
            for reference in _references(entry.resource):
                identity = identity_of_reference(reference)
                if identity:
                    found.add(identity)
        return found

    def address(self, ids: Ids) -> None:
        """Fix request URLs, resource ids and references for this round's ``ids`` (in place)."""
        entries: list[Json] = []
        writes: set[str] = set()
        reads: set[str] = set()
        for delete in self.deletes:
            url = ids.target(delete["request"]["url"])
            writes.add(url)
            entries.append({"request": {"method": "DELETE", "url": url}})
        for planned in self.plan.entries:
            resource = planned.resource
            target = ids.target(planned.match_url)
            literal = ids.literal_id(planned.match_url)
            if literal is not None:
                resource["id"] = literal
            writes.add(target)
            for holder in _reference_holders(resource):
                reference = holder["reference"]
                if identity_type(reference):
                    holder["reference"] = ids.target(reference)
                    reads.add(holder["reference"])
                else:
                    identity = identity_of_reference(reference)
                    if identity:
                        reads.add(ids.target(identity))
            entries.append(
                {
                    "fullUrl": planned.full_url,
                    "resource": resource,
                    "request": {"method": "PUT", "url": target},
                }
            )
        self.entries = entries
        self.keys = Keys(frozenset(writes), frozenset(reads - writes))


@dataclass
class Transaction:
    """Records written together, and where each one's main resource sits in the Bundle."""

    records: list[Planned]

    @property
    def keys(self) -> Keys:
        """What the whole transaction writes and reads (reads of its own entries left out)."""
        writes = frozenset().union(*(p.keys.writes for p in self.records))
        reads = frozenset().union(*(p.keys.reads for p in self.records))
        return Keys(writes, reads - writes)

    @property
    def size(self) -> int:
        """Entries of the Bundle."""
        return sum(p.size for p in self.records)

    def bundle(self) -> tuple[Json, list[int]]:
        """The transaction Bundle and, per record, the index of its main entry."""
        entries: list[Json] = []
        mains: list[int] = []
        for planned in self.records:
            mains.append(len(entries) + len(planned.deletes))
            entries.extend(planned.entries)
        # A copy (orjson round trip: far cheaper than deepcopy): a record may be sent again alone.
        copied: list[Json] = orjson.loads(orjson.dumps(entries))
        local = {
            e["request"]["url"]: e["fullUrl"] for e in copied if e["request"]["method"] == "PUT"
        }
        point_at_entries(copied, local)
        return {"resourceType": "Bundle", "type": "transaction", "entry": copied}, mains


def point_at_entries(entries: list[Json], local: dict[str, str]) -> None:
    """Make references to resources written by entries of the same transaction (``local``:
    request URL → fullUrl) point at those entries' fullUrls, in place."""
    for entry in entries:
        if "resource" in entry:
            for holder in _reference_holders(entry["resource"]):
                if holder["reference"] in local:
                    holder["reference"] = local[holder["reference"]]


def _reference_holders(node: Any) -> Iterable[Json]:
    """Every object with a string ``reference`` inside ``node`` (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("reference"), str):
                yield current
            stack.extend(v for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, dict | list))


def _references(node: Any) -> Iterable[str]:
    return (holder["reference"] for holder in _reference_holders(node))


def transactions(planned: Iterable[Planned], max_entries: int) -> list[Transaction]:
    """Records in order, cut into transactions of at most ``max_entries`` entries.

    A record larger than the bound travels alone (its resources must be written atomically), and
    a record writing a resource already written in the current transaction starts a new one.
    """
    found: list[Transaction] = []
    current: list[Planned] = []
    size = 0
    writes: set[str] = set()
    for record in planned:
        if current and (size + record.size > max_entries or record.keys.writes & writes):
            found.append(Transaction(current))
            current, size, writes = [], 0, set()
        current.append(record)
        size += record.size
        writes |= record.keys.writes
    if current:
        found.append(Transaction(current))
    return found
