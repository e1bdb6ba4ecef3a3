"""Tenancy against what is stored: which organisation owns a resource, asked of HAPI in bulk."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from facade.fhir.naming import REPORTING_ORG_TAG
from facade.frontdoor.intake import OwnershipChecks
from facade.upstream import UpstreamClient

_CHUNK = 50


def owner_of(resource: dict[str, Any]) -> str | None:
    """The reporting organisation a stored resource is tagged with (None: untagged)."""
    for tag in (resource.get("meta") or {}).get("tag") or []:
        if isinstance(tag, dict) and tag.get("system") == REPORTING_ORG_TAG:
            code = tag.get("code")
            return str(code) if code is not None else None
    return None


async def owners(
    upstream: UpstreamClient, targets: set[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """Owner of each existing (type, id); targets that don't exist are absent from the answer."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for rtype, rid in sorted(targets):
        by_type[rtype].append(rid)
    found: dict[tuple[str, str], str | None] = {}
    for rtype, ids in by_type.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            page = await upstream.get_json(
                rtype, {"_id": ",".join(chunk), "_count": str(len(chunk))}
            )
            for item in page.get("entry", []):
                resource = item.get("resource") or {}
                if resource.get("resourceType") == rtype and isinstance(resource.get("id"), str):
                    found[(rtype, resource["id"])] = owner_of(resource)
    return found


async def verify_ownership(
    upstream: UpstreamClient, checks: OwnershipChecks, org: str | None
) -> None:
    """Record a 403 issue on every entry that references or overwrites another organisation's data.

    A reference to a missing resource gets the same answer as one to another organisation's, so
    the door is no oracle for which ids exist elsewhere.
    """
    targets = set(checks.references) | set(checks.updates)
    if not targets:
        return
    found = await owners(upstream, targets)
    for (rtype, rid), uses in checks.references.items():
        if (rtype, rid) not in found or found[(rtype, rid)] != org:
            for entry, location in uses:
                entry.deny(
                    location,
                    "own-reference",
                    f"{rtype}/{rid} does not exist or belongs to another organisation",
                )
    for (rtype, rid), uses in checks.updates.items():
        if (rtype, rid) in found and found[(rtype, rid)] != org:
            for entry, location in uses:
                entry.deny(
                    location, "own-resource", f"{rtype}/{rid} belongs to another organisation"
                )
