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
from facade.fhir.naming import REPORTING_ORG_TAG, profile_url
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
    again = on_hapi(lambda c: load_ig(c, RESOURCES))
    assert again.counts == ig_loaded
    assert again.total == len(conformance_resources(RESOURCES))
    found = on_hapi(
        lambda c: c.get_json("StructureDefinition", {"url": profile_url("vte-patient")})
    )
    assert [e["resource"]["id"] for e in found.get("entry", [])] == ["vte-patient"]
    assert on_hapi(lambda c: c.count("CodeSystem", {"url": "urn:oid:2.16.156.10011.2.3.3.4"})) == 1


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
