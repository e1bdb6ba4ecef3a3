"""The HAPI FHIR JPA server module (docker/hapi) does what the facade relies on.

Each test talks plain FHIR REST to the real server at ``fhir_base_url`` and uses identifiers made
from a fresh uuid, so the file can run again and again on the same database.
"""

from __future__ import annotations

import http.client
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hapi_kit import birthdate_required_profile

from facade.forward.worker import TRUSTED_WRITE_HEADER
from facade.settings import Settings

pytestmark = pytest.mark.integration

FHIR_JSON = "application/fhir+json"
EXPORT_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def fhir(fhir_base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fhir_base_url.rstrip("/") + "/",
        headers={"Accept": FHIR_JSON},
        timeout=60.0,
    ) as client:
        yield client


def unique_system() -> str:
    return f"urn:vte-test:{uuid.uuid4().hex}"


def post(fhir: httpx.Client, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return fhir.post(path, json=body, headers={"Content-Type": FHIR_JSON, **headers})


def count(fhir: httpx.Client, resource_type: str, **params: str) -> int:
    response = fhir.get(resource_type, params={**params, "_summary": "count"})
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert "total" in bundle, bundle  # HAPI must report the total, not leave it out
    return int(bundle["total"])


def issues(outcome: dict[str, Any], severity: str) -> list[dict[str, Any]]:
    assert outcome["resourceType"] == "OperationOutcome", outcome
    return [i for i in outcome.get("issue", []) if i.get("severity") == severity]


def patient(system: str, value: str, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": system, "value": value}], **fields}


def test_metadata_is_an_r4_capability_statement(fhir: httpx.Client) -> None:
    response = fhir.get("metadata")
    assert response.status_code == 200
    cs = response.json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in cs["rest"][0]["resource"]}
    assert {"Patient", "Observation", "Encounter", "StructureDefinition", "Binary"} <= types


def test_validate_returns_error_outcome_for_invalid_resource(fhir: httpx.Client) -> None:
    # Observation.status and Observation.code are 1..1 in the base spec.
    response = post(
        fhir, "Observation/$validate", {"resourceType": "Observation", "valueString": "x"}
    )
    errors = issues(response.json(), "error")
    text = " ".join(e.get("diagnostics", "") for e in errors)
    assert "Observation.status" in text and "Observation.code" in text


def test_validate_against_a_profile_put_into_the_server(fhir: httpx.Client) -> None:
    sd_id = f"vte-test-{uuid.uuid4().hex[:16]}"
    url = f"http://example.org/fhir/StructureDefinition/{sd_id}"
    put = fhir.put(
        f"StructureDefinition/{sd_id}",
        json=birthdate_required_profile(sd_id, url),
        headers={"Content-Type": FHIR_JSON},
    )
    assert put.status_code in (200, 201), put.text

    lacking = fhir.post(
        "Patient/$validate",
        params={"profile": url},
        json={"resourceType": "Patient", "gender": "female"},
        headers={"Content-Type": FHIR_JSON},
    )
    errors = issues(lacking.json(), "error")
    assert any("birthDate" in e.get("diagnostics", "") for e in errors), errors

    conforming = fhir.post(
        "Patient/$validate",
        params={"profile": url},
        json={"resourceType": "Patient", "gender": "female", "birthDate": "1970-01-01"},
        headers={"Content-Type": FHIR_JSON},
    )
    assert issues(conforming.json(), "error") == []


def test_write_claiming_a_loaded_profile_is_validated(fhir: httpx.Client) -> None:
    """DeclaredProfileValidatingInterceptor (on by default): violating the claimed profile → 422."""
    sd_id = f"vte-test-{uuid.uuid4().hex[:16]}"
    url = f"http://example.org/fhir/StructureDefinition/{sd_id}"
    # POST (not PUT): the server must still see the new profile on the very next write.
    created_sd = post(fhir, "StructureDefinition", birthdate_required_profile(sd_id, url))
    assert created_sd.status_code == 201, created_sd.text
    system = unique_system()

    bad = post(fhir, "Patient", {**patient(system, "bad"), "meta": {"profile": [url]}})
    assert bad.status_code == 422, bad.text
    assert any("birthDate" in e.get("diagnostics", "") for e in issues(bad.json(), "error"))
    assert count(fhir, "Patient", identifier=f"{system}|bad") == 0

    good = post(
        fhir,
        "Patient",
        {**patient(system, "good", birthDate="1980-02-02"), "meta": {"profile": [url]}},
    )
    assert good.status_code == 201, good.text

    # A profile the server doesn't know is not enforced (no IG downloads at run time).
    unknown = {"profile": ["http://example.org/fhir/StructureDefinition/not-loaded"]}
    assert post(fhir, "Patient", {**patient(system, "unknown"), "meta": unknown}).status_code == 201


def test_only_the_trusted_write_key_skips_write_time_validation(
    fhir: httpx.Client, settings: Settings
) -> None:
    """The forwarder's header (docker/hapi TrustedWrites) with the configured key skips the
    declared-profile check, for a plain write and inside a transaction; no key or a wrong key
    is validated like any other writer (what a hospital posting through the FHIR door gets)."""
    sd_id = f"vte-test-{uuid.uuid4().hex[:16]}"
    url = f"http://example.org/fhir/StructureDefinition/{sd_id}"
    assert (
        post(fhir, "StructureDefinition", birthdate_required_profile(sd_id, url)).status_code == 201
    )
    system = unique_system()

    def bad(value: str) -> dict[str, Any]:
        return {**patient(system, value), "meta": {"profile": [url]}}

    assert settings.hapi_trusted_write_key is not None  # the session's HAPI has the same key
    key = settings.hapi_trusted_write_key.get_secret_value()
    assert post(fhir, "Patient", bad("none")).status_code == 422
    wrong = post(fhir, "Patient", bad("wrong"), **{TRUSTED_WRITE_HEADER: key + "x"})
    assert wrong.status_code == 422, wrong.text
    trusted = post(fhir, "Patient", bad("trusted"), **{TRUSTED_WRITE_HEADER: key})
    assert trusted.status_code == 201, trusted.text
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": bad("tx"), "request": {"method": "POST", "url": "Patient"}}],
    }
    assert post(fhir, "", bundle).status_code == 422
    assert post(fhir, "", bundle, **{TRUSTED_WRITE_HEADER: key}).status_code == 200
    for value, stored in (("none", 0), ("wrong", 0), ("trusted", 1), ("tx", 1)):
        assert count(fhir, "Patient", identifier=f"{system}|{value}") == stored, value


def test_transaction_is_all_or_nothing(fhir: httpx.Client) -> None:
    system = unique_system()
    patient_url = f"urn:uuid:{uuid.uuid4()}"

    def bundle(subject: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": patient_url,
                    "resource": patient(system, "p1"),
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {"coding": [{"system": system, "code": "obs"}]},
                        "subject": {"reference": subject},
                    },
                    "request": {"method": "POST", "url": "Observation"},
                },
            ],
        }

    # The second entry points at a Patient that doesn't exist: the whole bundle must fail.
    failed = post(fhir, "", bundle(f"Patient/missing-{uuid.uuid4().hex}"))
    assert 400 <= failed.status_code < 500, failed.text
    assert issues(failed.json(), "error")
    assert count(fhir, "Patient", identifier=f"{system}|p1") == 0

    ok = post(fhir, "", bundle(patient_url))
    assert ok.status_code == 200, ok.text
    statuses = [e["response"]["status"] for e in ok.json()["entry"]]
    assert all(s.startswith("201") for s in statuses), statuses
    assert count(fhir, "Patient", identifier=f"{system}|p1") == 1
    assert count(fhir, "Observation", code=f"{system}|obs") == 1


def test_conditional_create_does_not_duplicate(fhir: httpx.Client) -> None:
    system = unique_system()
    first = post(
        fhir, "Patient", patient(system, "c1"), **{"If-None-Exist": f"identifier={system}|c1"}
    )
    second = post(
        fhir, "Patient", patient(system, "c1"), **{"If-None-Exist": f"identifier={system}|c1"}
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert count(fhir, "Patient", identifier=f"{system}|c1") == 1


def test_conditional_update_by_identifier_creates_then_updates(fhir: httpx.Client) -> None:
    system = unique_system()
    url = f"Patient?identifier={system}|u1"
    first = fhir.put(
        url, json=patient(system, "u1", gender="female"), headers={"Content-Type": FHIR_JSON}
    )
    second = fhir.put(
        url, json=patient(system, "u1", gender="male"), headers={"Content-Type": FHIR_JSON}
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["meta"]["versionId"] == "2"
    assert count(fhir, "Patient", identifier=f"{system}|u1") == 1
    found = fhir.get("Patient", params={"identifier": f"{system}|u1"}).json()
    assert found["entry"][0]["resource"]["gender"] == "male"


def test_summary_count_is_exact_right_after_each_write(fhir: httpx.Client) -> None:
    """Search-result reuse is off: the same count query, repeated after a write, sees the write."""
    system = unique_system()
    assert count(fhir, "Patient", identifier=f"{system}|") == 0
    for expected in (1, 2, 3):
        assert post(fhir, "Patient", patient(system, f"n{expected}")).status_code == 201
        assert count(fhir, "Patient", identifier=f"{system}|") == expected


def test_has_reverse_chaining(fhir: httpx.Client) -> None:
    system = unique_system()
    with_obs = post(fhir, "Patient", patient(system, "with")).json()["id"]
    post(fhir, "Patient", patient(system, "without"))
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": "vte-risk"}]},
        "subject": {"reference": f"Patient/{with_obs}"},
    }
    assert post(fhir, "Observation", observation).status_code == 201

    found = fhir.get(
        "Patient",
        params={"identifier": f"{system}|", "_has:Observation:subject:code": f"{system}|vte-risk"},
    ).json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [with_obs]
    assert count(fhir, "Patient", **{"_has:Observation:subject:code": f"{system}|vte-risk"}) == 1


def test_elements_returns_only_the_requested_elements(fhir: httpx.Client) -> None:
    system = unique_system()
    post(fhir, "Patient", patient(system, "e1", gender="female", birthDate="1990-03-04"))
    found = fhir.get(
        "Patient", params={"identifier": f"{system}|e1", "_elements": "identifier"}
    ).json()
    resource = found["entry"][0]["resource"]
    assert resource["identifier"][0]["value"] == "e1"
    assert "birthDate" not in resource and "gender" not in resource
    assert any(t.get("code") == "SUBSETTED" for t in resource["meta"].get("tag", []))


def test_oversized_count_is_clamped_not_rejected(fhir: httpx.Client) -> None:
    system = unique_system()
    n = 510  # above the default maximum page size (HAPI_MAX_PAGE_SIZE=500)
    batch = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Basic",
                    "code": {"coding": [{"system": system, "code": str(i)}]},
                },
                "request": {"method": "POST", "url": "Basic"},
            }
            for i in range(n)
        ],
    }
    assert post(fhir, "", batch).status_code == 200
    response = fhir.get("Basic", params={"code": f"{system}|", "_count": "100000"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert 0 < len(page["entry"]) < n
    assert any(link["relation"] == "next" for link in page.get("link", []))


def test_raw_pipe_in_query_is_accepted(fhir_base_url: str, fhir: httpx.Client) -> None:
    """httpx percent-encodes '|'; other clients (curl, browsers) send it raw: Tomcat must allow it."""
    system = unique_system()
    post(fhir, "Patient", patient(system, "raw"))
    base = urlsplit(fhir_base_url)
    conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port or 80, timeout=30)
    try:
        conn.request(
            "GET",
            f"{base.path.rstrip('/')}/Patient?identifier={system}|raw&_summary=count",
            headers={"Accept": FHIR_JSON},
        )
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, body
    assert b'"total":1' in body


def test_bulk_export_system_level(fhir: httpx.Client) -> None:
    system = unique_system()
    created = post(fhir, "Patient", patient(system, "exported"))
    assert created.status_code == 201
    patient_id = created.json()["id"]

    kickoff = fhir.get(
        "$export",
        params={"_type": "Patient", "_typeFilter": f"Patient?identifier={system}|exported"},
        headers={"Prefer": "respond-async"},
    )
    assert kickoff.status_code == 202, kickoff.text
    status_url = kickoff.headers["Content-Location"]

    deadline = time.monotonic() + EXPORT_TIMEOUT_S
    while True:
        poll = fhir.get(status_url)
        if poll.status_code == 200:
            break
        assert poll.status_code == 202, poll.text
        assert time.monotonic() < deadline, f"$export not finished after {EXPORT_TIMEOUT_S} s"
        time.sleep(1.0)

    manifest = poll.json()
    assert manifest["error"] == []
    outputs = [o for o in manifest["output"] if o["type"] == "Patient"]
    assert outputs, manifest
    ndjson = fhir.get(outputs[0]["url"], headers={"Accept": "application/fhir+ndjson"})
    assert ndjson.status_code == 200
    assert ndjson.headers["Content-Type"].startswith("application/fhir+ndjson")
    lines = [line for line in ndjson.text.splitlines() if line.strip()]
    assert len(lines) == 1
    assert f'"id":"{patient_id}"' in lines[0]


def test_group_export_is_a_new_job_each_time(fhir: httpx.Client) -> None:
    """Group-level $export of a cohort, and no job reuse (VteBulkExportConfig): a second
    identical kick-off after a new member was written runs again and sees the new data."""
    system = unique_system()
    first = post(fhir, "Patient", patient(system, "member-1")).json()["id"]
    group = post(
        fhir,
        "Group",
        {
            "resourceType": "Group",
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{first}"}}],
        },
    ).json()["id"]

    def export() -> tuple[str, list[str]]:
        kickoff = fhir.get(
            f"Group/{group}/$export",
            params={"_type": "Patient,Encounter"},
            headers={"Prefer": "respond-async"},
        )
        assert kickoff.status_code == 202, kickoff.text
        status_url = kickoff.headers["Content-Location"]
        deadline = time.monotonic() + EXPORT_TIMEOUT_S
        while (poll := fhir.get(status_url)).status_code != 200:
            assert poll.status_code == 202 and time.monotonic() < deadline, poll.text
            time.sleep(0.5)
        lines = []
        for output in poll.json()["output"]:
            body = fhir.get(output["url"], headers={"Accept": "application/fhir+ndjson"}).text
            lines += [line for line in body.splitlines() if line.strip()]
        return status_url, lines

    status_one, lines_one = export()
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": {"reference": f"Patient/{first}"},
    }
    assert post(fhir, "Encounter", encounter).status_code == 201
    status_two, lines_two = export()
    assert status_one != status_two
    assert len(lines_one) == 1 and len(lines_two) == 2  # the Patient, then also its Encounter
