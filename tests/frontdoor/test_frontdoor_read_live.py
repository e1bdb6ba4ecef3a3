"""Read path against the real HAPI: the research view leaks no identifier and keeps intervals; QC view."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import Bearer, entry_index, resident_id, stay_bundle
from smart_kit import admitted_org, register

from facade.db import Database
from facade.fhir.naming import (
    REGIONAL_PSEUDONYM_SYSTEM,
    REPORTING_ORG_TAG,
    RESEARCH_PSEUDONYM_SYSTEM,
)
from facade.privacy.pseudonym import regional_pseudonym
from facade.settings import Settings, ensure_secrets

pytestmark = pytest.mark.integration
NAME = "张三丰"
PHONE = "13800138000"
TYPES = (
    "Patient",
    "Encounter",
    "RiskAssessment",
    "Condition",
    "Procedure",
    "Observation",
    "MedicationAdministration",
)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _stays(
    door: TestClient, database: Database, bearer: Bearer, count: int
) -> tuple[str, list[str], list[str]]:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    numbers, cases = [], []
    for _ in range(count):
        number = resident_id()
        bundle = stay_bundle(org, number)
        encounter = bundle["entry"][entry_index(bundle, "Encounter")]["resource"]
        encounter["text"] = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">患者 {NAME} 电话 {PHONE}</div>',
        }
        assessment = bundle["entry"][entry_index(bundle, "RiskAssessment")]["resource"]
        assessment["note"] = [{"text": f"家属 {NAME} {PHONE}"}]
        response = door.post("/fhir", json=bundle, headers=bearer(hospital, "system/*.crus"))
        assert response.status_code == 200, response.text
        numbers.append(number)
        cases.append(encounter["identifier"][0]["value"])
    return org, numbers, cases


def _all(door: TestClient, headers: dict[str, str], org: str) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for rtype in TYPES:
        body = door.get(
            f"/fhir/{rtype}",
            params={"_tag": f"{REPORTING_ORG_TAG}|{org}", "_count": "100"},
            headers=headers,
        ).json()
        assert body["resourceType"] == "Bundle", body
        found[rtype] = [e["resource"] for e in body.get("entry", [])]
    return found


def test_research_view_has_no_identifiers_and_keeps_intervals(
    door: TestClient, database: Database, bearer: Bearer, settings: Settings
) -> None:
    org, numbers, cases = _stays(door, database, bearer, 3)
    stored = _all(door, bearer(register(database, "qc"), "system/*.rs"), org)  # QC: exact dates
    researcher = register(database, "researcher", scopes="system/*.rs")
    rs = bearer(researcher, "system/*.rs")
    shown = _all(door, rs, org)
    assert {k: len(v) for k, v in shown.items()} == {k: len(v) for k, v in stored.items()}
    assert len(shown["Patient"]) == 3

    text = json.dumps(shown, ensure_ascii=False)
    key = ensure_secrets(settings).secret("pseudonym_key")
    stored_ids = [r["id"] for rs_ in stored.values() for r in rs_]
    forbidden = [
        *numbers,
        *(regional_pseudonym("01", n, key) for n in numbers),
        *cases,
        NAME,
        PHONE,
        "1956-03-14",
        REGIONAL_PSEUDONYM_SYSTEM,
        *stored_ids,
    ]
    for value in forbidden:
        assert value not in text, value
    for patient in shown["Patient"]:
        assert [i["system"] for i in patient["identifier"]] == [RESEARCH_PSEUDONYM_SYSTEM]
        assert patient["birthDate"] == "1956"

    # every stay keeps its admission -> assessment and admission -> prophylaxis intervals
    def intervals(view: dict[str, list[dict[str, Any]]]) -> list[tuple[Any, ...]]:
        rows = []
        for encounter in view["Encounter"]:
            subject = encounter["subject"]["reference"]
            start = _when(encounter["period"]["start"])
            risk = [
                _when(r["occurrenceDateTime"]) - start
                for r in view["RiskAssessment"]
                if r["subject"]["reference"] == subject
            ]
            drugs = [
                _when(
                    m["effectiveDateTime"]
                    if "effectiveDateTime" in m
                    else m["effectivePeriod"]["start"]
                )
                - start
                for m in view["MedicationAdministration"]
                if m["subject"]["reference"] == subject
            ]
            rows.append((sorted(risk), sorted(drugs), _when(encounter["period"]["end"]) - start))
        return sorted(rows)

    assert intervals(shown) == intervals(stored)
    real_starts = {e["period"]["start"] for e in stored["Encounter"]}
    assert not real_starts & {e["period"]["start"] for e in shown["Encounter"]}

    # research ids work for reads and searches; stored ids and date searches do not
    patient = shown["Patient"][0]
    answer = door.get(f"/fhir/Patient/{patient['id']}", headers=rs)
    again = answer.json()
    assert again["identifier"] == patient["identifier"] and again["birthDate"] == "1956"
    assert "ETag" not in answer.headers and "versionId" not in json.dumps(again)  # no history
    assert door.get(f"/fhir/Patient/{patient['id']}/_history/1", headers=rs).status_code == 403
    by_subject = door.get(
        "/fhir/Encounter", params={"subject": f"Patient/{patient['id']}"}, headers=rs
    ).json()
    assert [e["resource"]["subject"]["reference"] for e in by_subject["entry"]] == [
        f"Patient/{patient['id']}"
    ]
    assert door.get(f"/fhir/Patient/{stored['Patient'][0]['id']}", headers=rs).status_code == 404
    assert (
        door.get("/fhir/Encounter", params={"date": "ge2026-01-01"}, headers=rs).status_code == 403
    )
    assert door.get(f"/fhir/Patient/{patient['id']}/_history", headers=rs).status_code == 403
    count = door.get(
        "/fhir/Encounter",
        params={"_tag": f"{REPORTING_ORG_TAG}|{org}", "_summary": "count"},
        headers=rs,
    ).json()
    assert count["total"] == 3
    included = door.get(
        "/fhir/Encounter",
        params={
            "_tag": f"{REPORTING_ORG_TAG}|{org}",
            "_include": "Encounter:subject",
            "_elements": "period",
        },
        headers=rs,
    ).json()
    kinds = [e["resource"]["resourceType"] for e in included["entry"]]
    assert kinds.count("Encounter") == 3 and kinds.count("Patient") == 3
    assert not set(numbers) & set(json.dumps(included))


def test_qc_view_is_pseudonymised_and_hospital_sees_its_own_as_stored(
    door: TestClient, database: Database, bearer: Bearer
) -> None:
    org, numbers, cases = _stays(door, database, bearer, 1)
    qc = _all(door, bearer(register(database, "qc"), "system/*.rs"), org)
    text = json.dumps(qc, ensure_ascii=False)
    for value in (*numbers, *cases, NAME, PHONE):
        assert value not in text
    assert qc["Patient"][0]["birthDate"] == "1956-03-14"
    assert qc["Patient"][0]["identifier"][0]["system"] == REGIONAL_PSEUDONYM_SYSTEM
    hospital = register(database, "hospital", org=org, scopes="system/*.rs")
    own = _all(door, bearer(hospital, "system/*.rs"), org)
    assert own["Encounter"][0]["identifier"][0]["value"] == cases[0]
    assert NAME in own["Encounter"][0]["text"]["div"]
