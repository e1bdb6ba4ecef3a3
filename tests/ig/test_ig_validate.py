"""$validate against the real HAPI server: valid examples pass, invalid ones name the broken constraint."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from facade.errors import UpstreamRejected
from facade.fhir.naming import CANONICAL, REPORTING_ORG_TAG, profile_url
from facade.hapi.launcher import HapiLauncher
from facade.ig.invalid import InvalidExample, load_invalid_examples, materialise
from facade.ig.loader import conformance_resources, errors_of, example_resources, load_ig, validate
from facade.settings import Settings
from facade.upstream.client import UpstreamClient

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
RESOURCES = PROFILES / "fsh-generated" / "resources"
EXAMPLES = example_resources(RESOURCES)
INVALID = load_invalid_examples(PROFILES)
T = TypeVar("T")


@pytest.fixture(scope="module")
def on_hapi(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path_factory: pytest.TempPathFactory
):  # type: ignore[no-untyped-def]
    """Run one coroutine with a fresh UpstreamClient to the session's HAPI (the guide already loaded)."""
    settings = Settings(
        environment="test",
        var_dir=tmp_path_factory.mktemp("v"),
        fhir_base_url=fhir_base_url,
        upstream_timeout_seconds=120.0,
    )

    def run(call: Callable[[UpstreamClient], Awaitable[T]]) -> T:
        async def go() -> T:
            client = UpstreamClient(settings)
            try:
                return await call(client)
            finally:
                await client.aclose()

        return asyncio.run(go())

    return run


def _issue_text(issue: dict[str, Any]) -> str:
    """What an issue says and where: message and FHIRPath (not the line/column extensions)."""
    parts = [(issue.get("details") or {}).get("text", ""), issue.get("diagnostics", "")]
    return " | ".join([*parts, *issue.get("expression", []), *issue.get("location", [])])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["id"])
def test_valid_example_passes_its_profile(on_hapi, example: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    profile = example["meta"]["profile"][0]
    outcome = on_hapi(lambda c: validate(c, example, profile))
    assert errors_of(outcome) == [], [_issue_text(i) for i in errors_of(outcome)]


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_invalid_example_fails_naming_the_constraint(on_hapi, example: InvalidExample) -> None:  # type: ignore[no-untyped-def]
    resource = materialise(example, RESOURCES)
    outcome = on_hapi(lambda c: validate(c, resource, example.profile_url))
    errors = [_issue_text(i) for i in errors_of(outcome)]
    assert errors, f"{example.id}: expected an error for {example.constraint}"
    assert any(all(text in issue for text in example.expect) for issue in errors), (
        example.expect,
        errors,
    )


def test_loading_is_idempotent_and_resources_are_readable(
    on_hapi, ig_loaded: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    versions = on_hapi(_definition_versions)
    again = on_hapi(lambda c: load_ig(c, RESOURCES))
    assert again.counts == ig_loaded
    # profiles come back with the same generated snapshot, so a re-load stores nothing new
    assert on_hapi(_definition_versions) == versions
    assert again.total == len(conformance_resources(RESOURCES))
    found = on_hapi(
        lambda c: c.get_json("StructureDefinition", {"url": profile_url("vte-patient")})
    )
    assert [e["resource"]["id"] for e in found.get("entry", [])] == ["vte-patient"]
    assert on_hapi(lambda c: c.count("CodeSystem", {"url": "urn:oid:2.16.156.10011.2.3.3.4"})) == 1


async def _stored_definitions(client: UpstreamClient) -> dict[str, dict[str, Any]]:
    """The guide's StructureDefinitions as HAPI holds them, by url."""
    query = {"url:below": CANONICAL}
    return {sd["url"]: sd async for sd in client.iter_search("StructureDefinition", query)}


async def _definition_versions(client: UpstreamClient) -> dict[str, str]:
    return {url: sd["meta"]["versionId"] for url, sd in (await _stored_definitions(client)).items()}


def test_profiles_are_stored_with_their_snapshots(on_hapi) -> None:  # type: ignore[no-untyped-def]
    ours = [
        r for r in conformance_resources(RESOURCES) if r["resourceType"] == "StructureDefinition"
    ]
    held = on_hapi(_stored_definitions)
    for definition in ours:
        stored = held[definition["url"]]
        assert stored["differential"] == definition["differential"], definition["id"]
        paths = [e["path"] for e in stored["snapshot"]["element"]]
        assert paths[0] == definition["type"], definition["id"]
        differential_paths = {e["path"] for e in definition["differential"]["element"]}
        assert differential_paths <= set(paths), definition["id"]


def _snapshots_generated_since(log: Path, offset: int) -> list[str]:
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    marker = "Generating snapshot for StructureDefinition: "
    return [line.split(marker, 1)[1].strip() for line in text.splitlines() if marker in line]


def test_validations_after_a_cache_reset_generate_no_snapshot_of_ours(
    on_hapi, fhir_base_url: str, hapi_launcher: HapiLauncher
) -> None:  # type: ignore[no-untyped-def]
    """Request-time snapshot generation races with concurrent validations in HAPI 8.x (see
    ``facade.ig.loader.with_snapshot``); with the guide's profiles stored whole it never happens."""
    log = hapi_launcher.log_file
    assert hapi_launcher.status().base_url == fhir_base_url, (
        "needs the suite's own HAPI and its log"
    )
    offset = log.stat().st_size
    # a profile stored without a snapshot shows that the log does record request-time generation
    probe_url = f"urn:uuid:{uuid.uuid4()}"
    probe = {
        "resourceType": "StructureDefinition",
        "url": probe_url,
        "name": "SnapshotProbe",
        "status": "draft",
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": "Basic",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Basic",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Basic.subject", "path": "Basic.subject", "min": 1}]},
    }
    created = on_hapi(lambda c: c.send_json("POST", "StructureDefinition", probe))
    basic = {"resourceType": "Basic", "code": {"text": "probe"}}

    async def validate_everything(client: UpstreamClient) -> list[list[dict[str, Any]]]:
        gate = asyncio.Semaphore(8)

        async def one(resource: dict[str, Any], profile: str) -> list[dict[str, Any]]:
            async with gate:
                return errors_of(await validate(client, resource, profile))

        checks = [one(e, e["meta"]["profile"][0]) for e in EXAMPLES]
        return await asyncio.gather(*checks, one(basic, probe_url))

    try:
        *example_errors, probe_errors = on_hapi(validate_everything)
    finally:
        on_hapi(lambda c: c.request("DELETE", f"StructureDefinition/{created['id']}"))
    assert example_errors == [[] for _ in EXAMPLES]
    assert any("Basic.subject" in _issue_text(i) for i in probe_errors), probe_errors
    generated = _snapshots_generated_since(log, offset)
    assert probe_url in generated
    assert [url for url in generated if url.startswith(CANONICAL)] == []


def _fresh_copies() -> tuple[list[dict[str, Any]], str]:
    """The examples under a new institution code and ids, so stored copies collide with nothing."""
    # "91" + 6 digits + 10 upper-case hex characters has the shape of a unified social credit code.
    org = "91" + f"{uuid.uuid4().int % 10**6:06d}" + uuid.uuid4().hex[:10].upper()
    suffix = uuid.uuid4().hex[:8]
    text = (
        json.dumps(EXAMPLES)
        .replace("12330100470116614F", org)
        .replace("-example", f"-example-{suffix}")
    )
    return json.loads(text), org


def test_examples_are_storable_and_writes_are_checked_against_the_profiles(on_hapi) -> None:  # type: ignore[no-untyped-def]
    examples, org = _fresh_copies()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in examples
        ],
    }
    answer = on_hapi(lambda c: c.transaction(bundle))
    assert [e["response"]["status"][:3] for e in answer["entry"]] == ["201"] * len(examples)
    tagged = on_hapi(lambda c: c.count("Encounter", {"_tag": f"{REPORTING_ORG_TAG}|{org}"}))
    assert tagged == 1

    patient = next(r for r in examples if r["resourceType"] == "Patient")
    patient["identifier"].append(
        {"system": "urn:oid:2.16.156.10011.1.3", "value": "11010519491231002X"}
    )
    with pytest.raises(UpstreamRejected) as rejected:
        on_hapi(lambda c: c.send_json("PUT", f"Patient/{patient['id']}", patient))
    assert rejected.value.upstream_status == 422
    assert any("vte-pat-1" in _issue_text(i) for i in errors_of(rejected.value.outcome or {}))
