"""Load the guide's conformance resources into HAPI (PUT by id, idempotent) and validate against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
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


def _dependency_rank(definitions: list[dict[str, Any]]) -> dict[str, int]:
    """Rank of each StructureDefinition's url, after the guide's own ones it builds on."""
    urls = {sd["url"] for sd in definitions}
    graph: dict[str, set[str]] = {}
    for sd in definitions:
        used = {sd.get("baseDefinition", "")}
        for element in sd.get("differential", {}).get("element", []):
            for kind in element.get("type", []):
                used.update(kind.get("profile", []))
        graph[sd["url"]] = used & urls
    # static_order is deterministic for a given input; sorting the input keeps it stable by url.
    order = TopologicalSorter(dict(sorted(graph.items()))).static_order()
    return {url: rank for rank, url in enumerate(order)}


def conformance_resources(resources_dir: Path) -> list[dict[str, Any]]:
    """The guide's conformance resources (no examples): terminology first, profiles after what they use."""
    found = [r for r in _read_all(resources_dir) if r.get("resourceType") in CONFORMANCE_ORDER]
    rank = _dependency_rank([r for r in found if r["resourceType"] == "StructureDefinition"])
    # A stable sort: resources other than StructureDefinitions keep their file order in their type.
    return sorted(
        found,
        key=lambda r: (CONFORMANCE_ORDER.index(r["resourceType"]), rank.get(r.get("url", ""), 0)),
    )


async def with_snapshot(client: UpstreamClient, definition: dict[str, Any]) -> dict[str, Any]:
    """The StructureDefinition with the snapshot HAPI's ``$snapshot`` generates for it.

    HAPI generates missing snapshots lazily, inside whichever validation first needs one, and
    the generator (org.hl7.fhir.core 6.6-6.9, HAPI 8.0-8.10) rewrites the shared base
    definition's ``Resource.id`` type while doing so (hapi-fhir#8034): a validation reading that
    element at the same moment reports a valid resource's ``id`` as broken. Stored with their
    snapshots, the guide's profiles are never generated at request time, after a restart or a
    cache expiry, so validations never meet a half-rewritten base.
    """
    if definition.get("snapshot"):
        return definition
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "definition", "resource": definition}],
    }
    generated: dict[str, Any] = await client.send_json(
        "POST", "StructureDefinition/$snapshot", parameters
    )
    return generated


def example_resources(resources_dir: Path) -> list[dict[str, Any]]:
    """The guide's example instances (everything that is not a conformance resource)."""
    return [r for r in _read_all(resources_dir) if r.get("resourceType") not in CONFORMANCE_ORDER]


async def load_ig(client: UpstreamClient, resources_dir: Path) -> LoadResult:
    """PUT every conformance resource by id, profiles with their snapshots; re-running updates in
    place (an unchanged resource keeps its version). Raises UpstreamError naming the resource."""
    result = LoadResult()
    for resource in conformance_resources(resources_dir):
        kind, rid = resource["resourceType"], resource["id"]
        try:
            if kind == "StructureDefinition":
                resource = await with_snapshot(client, resource)
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
