"""Validate once: every resource the forwarder can write conforms to our profiles (HAPI $validate).

HAPI stores the forwarder's mapped writes without validating them (trusted writes, see
facade/forward/README.md). This test is what justifies that: for every record type it generates
records (``facade.mapping.samples``, seeded) until they cover **every code value** of every coded
field, both values of every boolean, **every optional field present and absent**, and every
optional group empty and filled — the goals are read from the dictionary here, independently of
the generator, and a goal no record reaches fails the test. The covering records are prepared,
mapped and addressed exactly as the forwarder does (derived ids, literal references), and every
resource is checked by HAPI's validator against the profiles it declares (``$validate``; about
150 resources cover the dictionary).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from conftest import KEY, ORG

from facade.dictionary.models import Field, RecordType
from facade.forward.bundles import Planned
from facade.forward.ids import Ids
from facade.ig.loader import errors_of, validate
from facade.mapping.engine import MappingEngine
from facade.mapping.prepare import prepare_payload
from facade.mapping.samples import RandomChooser, generate_record
from facade.native.receipts import ClaimedRecord
from facade.settings import Settings
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration

Goal = tuple[str, str, Any]  # (group or "", field, code / boolean / "<present>" / "<absent>")
MAX_SEEDS = 5000


class AnyLinks:
    """Every linked record is known (its patient), as when records arrive in dependency order."""

    def facts(self, record_type: str, key: str) -> Mapping[str, Any] | None:
        del record_type
        return {"patientId": f"P-{key}"}


def goals(engine: MappingEngine, rt: RecordType) -> set[Goal]:
    """What the covering records must show, read from the dictionary."""
    wanted: set[Goal] = set()

    def fields(scope: str, items: Iterable[Field]) -> None:
        for field in items:
            allowed = next((r for r in field.rules if r.kind == "one-of"), None)
            if field.code_table:
                for concept in engine.dictionary.code_table(field.code_table).concepts:
                    value = (
                        concept.properties.get(allowed.property)
                        if allowed and allowed.property
                        else concept.code
                    )
                    if allowed is None or value in (allowed.values or []):
                        wanted.add((scope, field.name, concept.code))
            elif field.type == "boolean":
                for flag in (True, False):
                    if allowed is None or flag in (allowed.values or []):
                        wanted.add((scope, field.name, flag))
            if not field.required:
                wanted.update({(scope, field.name, "<present>"), (scope, field.name, "<absent>")})

    fields("", rt.fields)
    for group in rt.groups:
        fields(group.name, group.fields)
        if not group.required:
            wanted.add((group.name, "", "<none>"))
    return wanted


def shown(rt: RecordType, record: Mapping[str, Any]) -> set[Goal]:
    """The goals one generated record reaches."""
    found: set[Goal] = set()

    def values(scope: str, items: Iterable[Field], data: Mapping[str, Any]) -> None:
        for field in items:
            value = data.get(field.name)
            found.add((scope, field.name, "<absent>" if value is None else "<present>"))
            if value is not None and (field.code_table or field.type == "boolean"):
                found.add((scope, field.name, value))

    values("", rt.fields, record)
    for group in rt.groups:
        items = record.get(group.name) or []
        if not items:
            found.add((group.name, "", "<none>"))
        for item in items:
            values(group.name, group.fields, item)
    return found


def covering_records(engine: MappingEngine, rt: RecordType) -> list[dict[str, Any]]:
    """Few generated records covering every goal (greedy set cover over records generated until
    every goal was seen); fails naming the goals no record reached."""
    wanted = goals(engine, rt)
    seen: set[Goal] = set()
    pool: list[tuple[dict[str, Any], set[Goal]]] = []
    for seed in range(MAX_SEEDS):
        record = generate_record(engine, rt, RandomChooser(seed), org_code=ORG)
        reached = shown(rt, record) & wanted
        pool.append((record, reached))
        seen |= reached
        if seen == wanted:
            break
    missing = sorted(map(str, wanted - seen))
    assert not missing, f"{rt.name}: no generated record shows {missing[:10]}"
    picked: list[dict[str, Any]] = []
    left = set(wanted)
    while left:
        record, reached = max(pool, key=lambda item: len(item[1] & left))
        picked.append(record)
        left -= reached
    return picked


def mapped_resources(engine: MappingEngine) -> list[dict[str, Any]]:
    """Every resource the covering records become, as the forwarder writes them."""
    resources: list[dict[str, Any]] = []
    for name, rt in engine.dictionary.record_types.items():
        for number, record in enumerate(covering_records(engine, rt)):
            payload, _ = prepare_payload(engine, rt, record, KEY)
            claimed = ClaimedRecord(
                receipt_id=f"{name}-{number}",
                lease_token="conformance",
                lease_until_ms=0,
                attempts=1,
                app_id="conformance",
                org_code=ORG,
                service_code=rt.service_code,
                record_id=str(payload.get("recordId", number)),
                record_version=1,
                batch_id="conformance",
                record_index=number,
                payload=payload,
            )
            planned = Planned(claimed, engine.plan(rt, payload, ORG, AnyLinks()))
            planned.address(Ids("derived"))
            resources.extend(entry["resource"] for entry in planned.entries)
    return resources


def validate_all(base_url: str, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HAPI's OperationOutcome for each resource (``$validate``, four calls in flight).

    One call per resource: HAPI runs an operation inside a batch Bundle as a create, so a batch
    of ``$validate`` entries would store them instead of validating them.
    """

    async def send() -> list[dict[str, Any]]:
        settings = Settings(
            environment="test", fhir_base_url=base_url, upstream_timeout_seconds=300
        )
        client = UpstreamClient(settings)
        gate = asyncio.Semaphore(4)

        async def one(resource: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                return await validate(client, resource)

        try:
            return list(await asyncio.gather(*(one(r) for r in resources)))
        finally:
            await client.aclose()

    return asyncio.run(send())


def test_every_mapped_resource_conforms_to_its_declared_profile(
    engine: MappingEngine, fhir_base_url: str, ig_loaded: dict[str, int]
) -> None:
    assert ig_loaded
    resources = mapped_resources(engine)
    kinds = {r["resourceType"] for r in resources}
    # What the profiles cover: a mapping that stopped producing a resource type would show here.
    assert {"Patient", "Encounter", "RiskAssessment", "Organization"} <= kinds
    assert all(r.get("meta", {}).get("profile") for r in resources), (
        "a resource declares no profile"
    )
    outcomes = validate_all(fhir_base_url, resources)
    assert len(outcomes) == len(resources)
    assert all(o.get("resourceType") == "OperationOutcome" for o in outcomes)
    failures = [
        f"{r['resourceType']} ({r['meta']['profile'][0].rsplit('/', 1)[-1]}): "
        f"{i.get('diagnostics')} at {i.get('expression') or i.get('location')}"
        for r, o in zip(resources, outcomes, strict=True)
        for i in errors_of(o)
    ]
    assert failures == []


def test_a_resource_breaking_its_profile_is_caught(
    engine: MappingEngine, fhir_base_url: str, ig_loaded: dict[str, int]
) -> None:
    """The check above can fail: a mapped Encounter without its required status is refused."""
    assert ig_loaded
    rt = engine.dictionary.record_types["case"]
    record = covering_records(engine, rt)[0]
    payload, _ = prepare_payload(engine, rt, record, KEY)
    plan = engine.plan(rt, payload, ORG, AnyLinks())
    encounter = next(e.resource for e in plan.entries if e.resource["resourceType"] == "Encounter")
    broken = {k: v for k, v in encounter.items() if k != "status"}
    [outcome] = validate_all(fhir_base_url, [broken])
    assert any("Encounter.status" in str(i.get("diagnostics")) for i in errors_of(outcome))
