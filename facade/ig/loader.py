"""Load the guide's conformance resources into HAPI (PUT by id, idempotent) and validate against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facade.errors import UpstreamRejected
from facade.upstream.client import UpstreamClient

# Terminology first, so profiles that bind to it resolve as soon as HAPI reads them.
CONFORMANCE_ORDER = (
    "CodeSystem",
    "ValueSet",
    "ConceptMap",
    "StructureDefinition",
    "SearchParameter",
    "Library",
    "Measure",
)


@dataclass
class LoadResult:
    """What ``load_ig`` sent, by resource type."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of resources loaded."""
        return sum(self.counts.values())


def _read_all(resources_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(resources_dir.glob("*.json"))]


def conformance_resources(resources_dir: Path) -> list[dict[str, Any]]:
    """The guide's conformance resources (no examples), terminology first."""
    found = [r for r in _read_all(resources_dir) if r.get("resourceType") in CONFORMANCE_ORDER]
    return sorted(found, key=lambda r: CONFORMANCE_ORDER.index(r["resourceType"]))


def example_resources(resources_dir: Path) -> list[dict[str, Any]]:
    """The guide's example instances (everything that is not a conformance resource)."""
    return [r for r in _read_all(resources_dir) if r.get("resourceType") not in CONFORMANCE_ORDER]


async def load_ig(client: UpstreamClient, resources_dir: Path) -> LoadResult:
    """PUT every conformance resource by id; re-running updates in place. Raises UpstreamError naming the resource."""
    result = LoadResult()
    for resource in conformance_resources(resources_dir):
        kind, rid = resource["resourceType"], resource["id"]
        try:
            await client.send_json("PUT", f"{kind}/{rid}", resource)
        except UpstreamRejected as exc:
            raise UpstreamRejected(
                f"HAPI refused {kind}/{rid}: {exc.message}",
                upstream_status=exc.upstream_status,
                outcome=exc.outcome,
            ) from exc
        result.counts[kind] = result.counts.get(kind, 0) + 1
    return result


async def validate(
    client: UpstreamClient, resource: dict[str, Any], profile: str | None = None
) -> dict[str, Any]:
    """Run ``$validate`` (against ``profile`` when given) and return HAPI's OperationOutcome, valid or not."""
    path = f"{resource['resourceType']}/$validate"
    if profile:
        path += f"?profile={profile}"
    try:
        outcome: dict[str, Any] = await client.send_json("POST", path, resource)
    except UpstreamRejected as exc:
        if exc.outcome and exc.outcome.get("resourceType") == "OperationOutcome":
            return exc.outcome
        raise
    return outcome


def errors_of(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """The error and fatal issues of an OperationOutcome."""
    return [i for i in outcome.get("issue", []) if i.get("severity") in ("error", "fatal")]
