"""Refusals against the real HAPI: cross-tenant writes and reads, bad tokens, missing scopes.

Each refusal must come with the right status and leave HAPI exactly as it was.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import Bearer, entry_index, resident_id, stay_bundle
from smart_kit import admitted_org, random_org, register, token_form

from facade.db import Database
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.services import services_of
from facade.settings import Settings, ensure_secrets

pytestmark = pytest.mark.integration
TYPES = (
    "Patient",
    "Encounter",
    "RiskAssessment",
    "Condition",
    "Procedure",
    "Observation",
    "Organization",
)


def _snapshot(fhir_base_url: str, org: str) -> dict[str, Any]:
    counts = {}
    for rtype in TYPES:
        body = httpx.get(
            f"{fhir_base_url}/{rtype}",
            params={"_tag": f"{REPORTING_ORG_TAG}|{org}", "_summary": "count"},
            headers={"Cache-Control": "no-cache"},
            timeout=60,
        ).json()
        counts[rtype] = body["total"]
    return counts


def _forge(settings: Settings, **claims: Any) -> str:
    key = ensure_secrets(settings).secret("token_signing_key")
    now = int(time.time())
    base = {
        "iss": f"{settings.public_base_url}/auth",
        "aud": f"{settings.public_base_url}/fhir",
        "iat": now,
        "exp": now + 300,
        "jti": "forged",
        "scope": "system/*.crus",
        "role": "hospital",
    }
    return jwt.encode(base | claims, key, algorithm="HS256")


def test_cross_tenant_writes_and_reads_are_refused(
    door: TestClient, database: Database, bearer: Bearer, fhir_base_url: str
) -> None:
    org_a, org_b = admitted_org(database), admitted_org(database)
    a = register(database, "hospital", org=org_a, scopes="system/*.crus")
    b = register(database, "hospital", org=org_b, scopes="system/*.crus")
    stored = door.post(
        "/fhir", json=stay_bundle(org_a, resident_id()), headers=bearer(a, "system/*.crus")
    )
    assert stored.status_code == 200, stored.text
    ids = {
        e["response"]["location"].split("/")[0]: e["response"]["location"].split("/")[1]
        for e in stored.json()["entry"]
    }
    before_a = _snapshot(fhir_base_url, org_a)
    a_patient = httpx.get(f"{fhir_base_url}/Patient/{ids['Patient']}", timeout=30).json()
    hb = bearer(b, "system/*.crus")

    # 1. B's stay whose assessment points at A's patient and encounter
    bundle = stay_bundle(org_b, resident_id())
    ra = bundle["entry"][entry_index(bundle, "RiskAssessment")]["resource"]
    ra["subject"] = {"reference": f"Patient/{ids['Patient']}"}
    ra["encounter"] = {"reference": f"Encounter/{ids['Encounter']}"}
    response = door.post("/fhir", json=bundle, headers=hb)
    assert response.status_code == 403
    expressions = [x for i in response.json()["issue"] for x in i.get("expression", [])]
    index = entry_index(bundle, "RiskAssessment")
    assert f"Bundle.entry[{index}].resource.subject.reference" in expressions
    # 2. B overwrites A's patient
    assert (
        door.put(f"/fhir/Patient/{ids['Patient']}", json=a_patient, headers=hb).status_code == 403
    )
    # 3. B labels its data as A's
    tagged = stay_bundle(org_b, resident_id())
    tagged["entry"][0]["resource"]["meta"]["tag"] = [{"system": REPORTING_ORG_TAG, "code": org_a}]
    assert door.post("/fhir", json=tagged, headers=hb).status_code == 403
    # 4. B writes under A's record-number namespace (a stay re-homed to A, sent with B's token)
    assert door.post("/fhir", json=stay_bundle(org_a, resident_id()), headers=hb).status_code == 403
    # 5. B can neither read A's resources by id nor find them
    assert door.get(f"/fhir/Patient/{ids['Patient']}", headers=hb).status_code == 404
    assert door.get(f"/fhir/Encounter/{ids['Encounter']}/_history", headers=hb).status_code == 404
    assert (
        door.get(
            "/fhir/Patient", params={"_tag": f"{REPORTING_ORG_TAG}|{org_a}"}, headers=hb
        ).json()["total"]
        == 0
    )
    assert door.get("/fhir/Encounter/_history", headers=hb).status_code == 403

    assert _snapshot(fhir_base_url, org_b) == dict.fromkeys(TYPES, 0)
    assert _snapshot(fhir_base_url, org_a) == before_a
    after = httpx.get(f"{fhir_base_url}/Patient/{ids['Patient']}", timeout=30).json()
    assert after["meta"]["versionId"] == a_patient["meta"]["versionId"]


def test_bad_tokens_and_missing_scopes_are_refused_and_store_nothing(
    door: TestClient, database: Database, bearer: Bearer, settings: Settings, fhir_base_url: str
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    bundle = stay_bundle(org, resident_id())
    token_url = f"{settings.public_base_url}/auth/token"
    sub = {"sub": hospital.client_id, "org": org}
    good = bearer(hospital, "system/*.crus")["Authorization"].split()[1]
    head, payload, signature = good.split(".")
    other_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(org.encode(), random_org().encode())
    ).decode()

    refusals = {
        "no token": ({}, 401),
        "expired token": (
            {"Authorization": f"Bearer {_forge(settings, exp=int(time.time()) - 600, **sub)}"},
            401,
        ),
        "tampered token": ({"Authorization": f"Bearer {head}.{other_payload}.{signature}"}, 401),
        "wrong audience": (
            {
                "Authorization": f"Bearer {_forge(settings, aud='https://other.example/fhir', **sub)}"
            },
            401,
        ),
        "other signing key": (
            {
                "Authorization": "Bearer "
                + jwt.encode(
                    jwt.decode(good, options={"verify_signature": False}),
                    "x" * 32,
                    algorithm="HS256",
                )
            },
            401,
        ),
        "read-only scope": (bearer(hospital, "system/Patient.rs system/Encounter.rs"), 403),
        "create-only on some types": (bearer(hospital, "system/Patient.c system/Encounter.c"), 403),
    }
    for case, (headers, status) in refusals.items():
        response = door.post("/fhir", json=copy.deepcopy(bundle), headers=headers)
        assert response.status_code == status, (case, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert (
        door.get("/fhir/Encounter", headers=bearer(hospital, "system/Patient.rs")).status_code
        == 403
    )

    # token endpoint refusals: replayed jti, wrong audience, expired assertion
    form = token_form(hospital, token_url, "system/*.crus", jti="one-time")
    assert door.post("/auth/token", data=form).status_code == 200
    assert door.post("/auth/token", data=form).status_code == 401
    assert (
        door.post(
            "/auth/token",
            data=token_form(
                hospital, token_url, "system/*.crus", aud="https://other.example/auth/token"
            ),
        ).status_code
        == 401
    )
    assert (
        door.post(
            "/auth/token", data=token_form(hospital, token_url, "system/*.crus", exp_in=-100)
        ).status_code
        == 401
    )
    assert _snapshot(fhir_base_url, org) == dict.fromkeys(TYPES, 0)


def test_a_disabled_institution_stops_writing_and_writes_again_once_enabled(
    door: TestClient, database: Database, settings: Settings, fhir_base_url: str
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/Patient.crus")
    token_url = f"{settings.public_base_url}/auth/token"

    def token() -> httpx.Response:
        return door.post("/auth/token", data=token_form(hospital, token_url, "system/Patient.cru"))

    headers = {"Authorization": f"Bearer {token().json()['access_token']}"}
    bundle = stay_bundle(org, resident_id())
    patient = bundle["entry"][entry_index(bundle, "Patient")]["resource"]
    assert door.post("/fhir/Patient", json=patient, headers=headers).status_code == 201
    institutions = services_of(door.app).institutions  # type: ignore[arg-type]
    institutions.set_status(org, active=False)  # what `vte-facade org disable` does
    before = _snapshot(fhir_base_url, org)
    assert door.post("/fhir/Patient", json=patient, headers=headers).status_code == 403
    assert door.get("/fhir/Patient", headers=headers).status_code == 403
    assert token().status_code == 401
    assert _snapshot(fhir_base_url, org) == before
    institutions.set_status(org, active=True)
    assert door.post("/fhir/Patient", json=patient, headers=headers).status_code == 201
    assert token().status_code == 200
