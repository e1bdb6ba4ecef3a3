"""Point a rejected transaction at its bad entries: HAPI names the element, not the entry index.

Only runs on the failure path: each entry is sent to ``$validate`` (a few at a time) and the
errors come back prefixed with ``Bundle.entry[i].resource``. When no entry fails on its own (the
cause was a conditional match or a reference), HAPI's own issues are returned as they are.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from facade.errors import Issue, UpstreamError, UpstreamRejected
from facade.frontdoor.entries import WriteEntry
from facade.upstream import UpstreamClient

_PARALLEL = 4
_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\]")


def outcome_issues(outcome: dict[str, Any] | None, entry: WriteEntry | None = None) -> list[Issue]:
    """Error-level issues of an OperationOutcome, located inside ``entry`` when given."""
    issues: list[Issue] = []
    for item in (outcome or {}).get("issue", []):
        if item.get("severity") not in ("error", "fatal"):
            continue
        where = (item.get("expression") or item.get("location") or [""])[0]
        message = (
            (item.get("details") or {}).get("text")
            or item.get("diagnostics")
            or "rejected by the FHIR server"
        )
        if entry is not None:
            rtype = entry.resource_type
            if where == rtype or where.startswith((rtype + ".", rtype + "[")):
                where = entry.at() + where[len(rtype) :]
            elif not where.startswith("Bundle."):
                where = entry.at()
        issues.append(
            Issue(where, "profile", str(message), fhir_code=str(item.get("code") or "invalid"))
        )
    return issues


async def _validate(
    upstream: UpstreamClient, entry: WriteEntry, gate: asyncio.Semaphore
) -> list[Issue]:
    async with gate:
        try:
            body = await upstream.send_json(
                "POST", f"{entry.resource_type}/$validate", entry.resource
            )
        except UpstreamRejected as exc:
            body = exc.outcome or {}  # already scrubbed by the client
        except UpstreamError:
            return []
    return outcome_issues(upstream.address.scrub(body), entry)


async def locate_rejection(
    upstream: UpstreamClient, entries: list[WriteEntry], rejected: UpstreamRejected
) -> list[Issue]:
    """Issues naming the entries that made HAPI reject the transaction."""
    upstream_issues = outcome_issues(rejected.outcome)
    if any(_ENTRY.search(i.location) or _ENTRY.search(i.message) for i in upstream_issues):
        return upstream_issues
    gate = asyncio.Semaphore(_PARALLEL)
    found = await asyncio.gather(
        *(_validate(upstream, entry, gate) for entry in entries if entry.resource)
    )
    located = [issue for issues in found for issue in issues]
    if located:
        return located
    return upstream_issues or [
        Issue("Bundle", "upstream", rejected.message, fhir_code="processing")
    ]
