"""What changed in HAPI since a moment: type-level ``_history?_since=``, deletions placed by the
version before them.

HAPI stamps every version with ``meta.lastUpdated`` on its own clock, and ``_history`` lists
creations, updates and deletions alike; a deletion carries no resource, so the latest version
that still had one (``<type>/<id>/_history``) says whose data it was. The watermark itself is
read from HAPI's clock too (``meta.lastUpdated`` of a Bundle it just built), never from ours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from facade.errors import UpstreamRejected
from facade.indicators.search import Searcher

# Everything the indicators read: stays, people (pseudonyms) and the dependent resources.
WATCHED = (
    "Encounter",
    "Patient",
    "RiskAssessment",
    "Observation",
    "Procedure",
    "MedicationAdministration",
    "Condition",
)
HISTORY_PAGE = 500


@dataclass
class Changes:
    """Resources written since the watermark (the current version; for a deletion, the last
    version that had content), and what could not be placed."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    deleted: int = 0
    unplaced: list[str] = field(default_factory=list)
    overflow: bool = False  # more entries than the limit: the caller falls back to a full pass


def parse_instant(value: str) -> datetime:
    """An instant as HAPI writes it (``2026-12-05T08:00:00.123+00:00`` or ``...Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def server_now(searcher: Searcher) -> datetime:
    """HAPI's clock: ``meta.lastUpdated`` of a search Bundle built for this request (a search no
    one asked before, so HAPI cannot answer it from its search cache)."""
    body = await searcher.first_page("Patient", [("_id", f"clock-{uuid.uuid4().hex}")])
    stamp = (body.get("meta") or {}).get("lastUpdated")
    if not isinstance(stamp, str):
        raise UpstreamRejected(
            "the FHIR server's search Bundle has no meta.lastUpdated", upstream_status=502
        )
    return parse_instant(stamp).astimezone(UTC)


async def changed_since(searcher: Searcher, since: datetime, limit: int) -> Changes:
    """Every version written to a watched type after ``since`` (the newest version of each
    resource), deletions placed by their previous version; stops at ``limit`` entries."""
    changes = Changes()
    latest: dict[str, dict[str, Any]] = {}
    deleted: list[str] = []
    entries = 0
    instant = since.isoformat(timespec="milliseconds")
    for rtype in WATCHED:
        params = [("_since", instant), ("_count", str(HISTORY_PAGE))]
        async for page in searcher.pages(f"{rtype}/_history", params):
            for entry in page.get("entry") or []:
                entries += 1
                if entries > limit:
                    changes.overflow = True
                    return changes
                ref = entry_reference(entry)
                if ref is None or ref in latest or ref in deleted:
                    continue  # newest first: the first entry of a resource is its current state
                method = (entry.get("request") or {}).get("method")
                resource = entry.get("resource")
                if method == "DELETE" or not isinstance(resource, dict):
                    deleted.append(ref)
                else:
                    latest[ref] = resource
    changes.resources = list(latest.values())
    changes.deleted = len(deleted)
    for ref in deleted:
        previous = await _last_content(searcher, ref)
        if previous is None:
            changes.unplaced.append(ref)
        else:
            changes.resources.append(previous)
    return changes


def entry_reference(entry: dict[str, Any]) -> str | None:
    """``Type/id`` of a history entry (from its resource, its request URL or its fullUrl)."""
    resource = entry.get("resource")
    if isinstance(resource, dict) and resource.get("id"):
        return f"{resource.get('resourceType')}/{resource['id']}"
    for text in ((entry.get("request") or {}).get("url"), entry.get("fullUrl")):
        if isinstance(text, str) and text:
            parts = text.split("/_history/")[0].rstrip("/").split("/")
            if len(parts) >= 2:
                return "/".join(parts[-2:])
    return None


async def _last_content(searcher: Searcher, ref: str) -> dict[str, Any] | None:
    """The newest version of a deleted resource that still had content."""
    async for page in searcher.pages(f"{ref}/_history", [("_count", "10")]):
        for entry in page.get("entry") or []:
            method = (entry.get("request") or {}).get("method")
            resource = entry.get("resource")
            if method != "DELETE" and isinstance(resource, dict):
                return resource
    return None
