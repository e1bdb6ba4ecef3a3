"""Write path against the real HAPI: a complete stay lands and validates; a bad one stores nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import RESIDENT_ID_SYSTEM, Bearer, entry_index, resident_id, stay_bundle
from hapi_load import patient
from smart_kit import admitted_org, register

from facade.db import Database
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, REPORTING_ORG_TAG
from facade.forward.worker import TRUSTED_WRITE_HEADER
from facade.settings import Settings

pytestmark = pytest.mark.integration


def _count(fhir_base_url: str, rtype: str, **params: str) -> int:
    body = httpx.get(
        f"{fhir_base_url}/{rtype}",
        params={**params, "_summary": "count"},
        headers={"Cache-Control": "no-cache"},
        timeout=60,
    ).json()
    return int(body["total"])


def _errors(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")]


def test_complete_stay_lands_in_hapi_pseudonymised_tagged_and_valid(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str
) -> None:
    org, number = admitted_org(database), resident_id()
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    response = door.post(
        "/fhir", json=stay_bundle(org, number), headers=bearer(hospital, "system/*.crus")
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert len(statuses) == 13 and all(s.startswith("201") for s in statuses), statuses
    for item in answer["entry"]:
        location = item["response"]["location"].split("/_history")[0]
        stored = httpx.get(f"{fhir_base_url}/{location}", timeout=30).json()
        assert {"system": REPORTING_ORG_TAG, "code": org} in stored["meta"]["tag"]
        assert number not in str(stored)
        outcome = httpx.post(
            f"{fhir_base_url}/{stored['resourceType']}/$validate", json=stored, timeout=60
        ).json()
        assert _errors(outcome) == [], (location, outcome)
        if stored["resourceType"] == "Patient":
            assert [i["system"] for i in stored["identifier"]] == [REGIONAL_PSEUDONYM_SYSTEM]
    # the hospital finds its patient by the identity number it knows; the number itself never went to HAPI
    found = door.get(
        "/fhir/Patient",
        params={"identifier": f"{RESIDENT_ID_SYSTEM}|{number}"},
        headers=bearer(hospital, "system/Patient.rs"),
    ).json()
    assert found["total"] == 1
    # sending the same stay again updates nothing twice: the conditional creates match
    again = door.post(
        "/fhir", json=stay_bundle(org, number), headers=bearer(hospital, "system/*.crus")
    )
    assert again.status_code == 200
    patient_status = next(
        e["response"]["status"]
        for e in again.json()["entry"]
        if e["response"]["location"].startswith("Patient/")
    )
    assert patient_status.startswith("200")
    assert _count(fhir_base_url, "Patient", _tag=f"{REPORTING_ORG_TAG}|{org}") == 1


def test_stay_with_one_invalid_entry_is_rejected_whole_and_points_at_it(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str
) -> None:
    org, number = admitted_org(database), resident_id()
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    bundle = stay_bundle(org, number)
    bad = entry_index(bundle, "Encounter")
    del bundle["entry"][bad]["resource"]["period"][
        "end"
    ]  # finished without a discharge time: vte-enc-2
    response = door.post("/fhir", json=bundle, headers=bearer(hospital, "system/*.crus"))
    assert response.status_code in (400, 412, 422), response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    locations = [loc for i in _errors(outcome) for loc in i.get("expression", [])]
    assert locations and all(
        loc.startswith(f"Bundle.entry[{bad}].resource") for loc in locations
    ), outcome
    for rtype in ("Patient", "Encounter", "Condition", "Organization", "RiskAssessment"):
        assert _count(fhir_base_url, rtype, _tag=f"{REPORTING_ORG_TAG}|{org}") == 0, rtype


def test_facade_checks_refuse_before_hapi_with_entry_locations(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    bundle = stay_bundle(org, resident_id())
    patient = entry_index(bundle, "Patient")
    bundle["entry"][patient]["resource"]["identifier"][0]["value"] = (
        "110105194912310021"  # bad check digit
    )
    response = door.post("/fhir", json=bundle, headers=bearer(hospital, "system/*.crus"))
    assert response.status_code == 400
    issue = _errors(response.json())[0]
    assert issue["expression"] == [f"Bundle.entry[{patient}].resource.identifier[0].value"]
    assert _count(fhir_base_url, "Encounter", _tag=f"{REPORTING_ORG_TAG}|{org}") == 0


def test_single_create_and_update(door: TestClient, database: Database, bearer: Bearer) -> None:
    org, number = admitted_org(database), resident_id()
    hospital = register(database, "hospital", org=org, scopes="system/Patient.crus")
    headers = bearer(hospital, "system/Patient.crus")
    bundle = stay_bundle(org, number)
    patient = bundle["entry"][entry_index(bundle, "Patient")]["resource"]
    created = door.post("/fhir/Patient", json=patient, headers=headers)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.startswith("http://127.0.0.1:8000/fhir/Patient/")
    pid = location.split("/Patient/")[1].split("/")[0]
    stored = door.get(f"/fhir/Patient/{pid}", headers=headers).json()
    assert number not in str(stored)
    stored["birthDate"] = "1956-03-15"
    updated = door.put(f"/fhir/Patient/{pid}", json=stored, headers=headers)
    assert updated.status_code == 200, updated.text
    assert door.get(f"/fhir/Patient/{pid}/_history", headers=headers).json()["total"] == 2


def test_a_hospital_cannot_skip_hapi_validation_with_the_trusted_write_header(
    door: TestClient, database: Database, bearer: Bearer, settings: Settings, fhir_base_url: str
) -> None:
    """Only the forwarder's writes are trusted: the door never relays X-VTE-Trusted-Write, so a
    hospital's resource is validated by HAPI even when it presents the right key."""
    org, number = admitted_org(database), resident_id()
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    invalid = patient(number)
    del invalid["birthDate"]  # structurally fine; the profile wants it
    assert settings.hapi_trusted_write_key is not None
    key = settings.hapi_trusted_write_key.get_secret_value()
    headers = {**bearer(hospital, "system/*.crus"), TRUSTED_WRITE_HEADER: key}
    response = door.post("/fhir/Patient", json=invalid, headers=headers)
    assert response.status_code == 422, response.text
    assert _count(fhir_base_url, "Patient", _tag=f"{REPORTING_ORG_TAG}|{org}") == 0
