"""Write-path checks that need no server: permissions, tenancy, pseudonyms, profiles, locations."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from facade.errors import InvalidInput
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, REPORTING_ORG_TAG, profile_url
from facade.frontdoor.entries import WriteEntry, parse_bundle
from facade.frontdoor.intake import IntakeChecker
from facade.privacy.pseudonym import regional_pseudonym
from facade.security.roles import Role
from facade.security.scopes import ScopeSet
from facade.security.tokens import Principal

ORG = "12330100470116614F"
OTHER = "91330100MA27XXXX1X"
KEY = b"k" * 32
BASE = "https://facade.example/fhir"
ID_NUMBER = "11010519491231002X"


def principal(
    role: Role = Role.HOSPITAL, scopes: str = "system/*.crus", org: str | None = ORG
) -> Principal:
    return Principal("c1", "test", role, org, ScopeSet.parse(scopes), "t1")


def patient(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": ID_NUMBER}],
        "gender": "female",
        "birthDate": "1956-03-14",
        **extra,
    }


def encounter(subject: str = "urn:uuid:p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "identifier": [
            {"system": f"https://fhir.vte-region.cn/ig/sid/record/{ORG}/case", "value": "ZY1"}
        ],
        "subject": {"reference": subject},
        "period": {"start": "2026-01-05T09:30:00+08:00"},
        **extra,
    }


def bundle(*resources: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    entries = []
    for n, resource in enumerate(resources):
        url = (
            resource["resourceType"]
            if method == "POST"
            else f"{resource['resourceType']}/{resource.get('id')}"
        )
        entries.append(
            {
                "fullUrl": f"urn:uuid:p{n + 1}" if n == 0 else f"urn:uuid:x{n}",
                "resource": copy.deepcopy(resource),
                "request": {"method": method, "url": url},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def check(
    body: dict[str, Any], who: Principal | None = None
) -> tuple[list[WriteEntry], IntakeChecker]:
    _, entries = parse_bundle(body, 1000)
    checker = IntakeChecker(who or principal(), KEY, BASE)
    checker.check_all(entries)
    return entries, checker


def issues(entries: list[WriteEntry]) -> list[tuple[str, str]]:
    return [(i.location, i.rule) for e in entries for i in e.issues]


def test_good_stay_is_tagged_pseudonymised_and_profiled() -> None:
    entries, checker = check(bundle(patient(), encounter()))
    assert issues(entries) == []
    stored_patient, stored_encounter = (e.resource for e in entries)
    assert stored_patient["identifier"] == [
        {
            "system": REGIONAL_PSEUDONYM_SYSTEM,
            "value": regional_pseudonym("01", ID_NUMBER, KEY),
            "type": {
                "coding": [
                    {
                        "system": "https://fhir.vte-region.cn/ig/CodeSystem/cv02-01-101-id-document-type",
                        "code": "01",
                        "display": "居民身份证",
                    }
                ]
            },
        }
    ]
    assert ID_NUMBER not in str(stored_patient)
    for resource in (stored_patient, stored_encounter):
        assert resource["meta"]["tag"] == [{"system": REPORTING_ORG_TAG, "code": ORG}]
    assert stored_patient["meta"]["profile"] == [profile_url("vte-patient")]
    assert stored_encounter["meta"]["profile"] == [profile_url("vte-encounter")]
    assert not checker.ownership.references


def test_other_organisation_tag_and_record_ids_are_forbidden() -> None:
    foreign = encounter(
        meta={"tag": [{"system": REPORTING_ORG_TAG, "code": OTHER}]},
        identifier=[
            {"system": f"https://fhir.vte-region.cn/ig/sid/record/{OTHER}/case", "value": "1"}
        ],
    )
    entries, _ = check(bundle(patient(), foreign))
    assert issues(entries) == [
        ("Bundle.entry[1].resource.meta.tag[0]", "tenant-tag"),
        ("Bundle.entry[1].resource.identifier[0].system", "own-record-ids"),
    ]
    assert entries[1].forbidden


def test_bad_check_digit_and_identity_number_in_text() -> None:
    bad = patient(
        identifier=[{"system": "urn:oid:2.16.156.10011.1.3", "value": "110105194912310021"}]
    )
    noted = encounter(text={"status": "generated", "div": f"<div>身份证 {ID_NUMBER}</div>"})
    entries, _ = check(bundle(bad, noted))
    assert issues(entries) == [
        ("Bundle.entry[0].resource.identifier[0].value", "resident-id-check-digit"),
        ("Bundle.entry[1].resource.text.div", "no-identity-number"),
    ]
    assert entries[0].issues[0].native_code == "3007"


def test_references_conditional_urls_and_ownership_checks() -> None:
    cond = encounter(subject=f"Patient?identifier=urn:oid:2.16.156.10011.1.3|{ID_NUMBER}")
    literal = encounter(subject="Patient/abc", serviceProvider={"reference": "Organization/org1"})
    unresolved = encounter(subject="urn:uuid:nowhere")
    external = encounter(subject="https://elsewhere.example/fhir/Patient/1")
    ours = encounter(subject=f"{BASE}/Patient/def")
    entries, checker = check(bundle(patient(), cond, literal, unresolved, external, ours))
    assert issues(entries) == [
        ("Bundle.entry[3].resource.subject.reference", "resolvable-reference"),
        ("Bundle.entry[4].resource.subject.reference", "local-reference"),
    ]
    reference = entries[1].resource["subject"]["reference"]
    pseudo = regional_pseudonym("01", ID_NUMBER, KEY)
    assert reference == (
        f"Patient?identifier={REGIONAL_PSEUDONYM_SYSTEM}|{pseudo}&_tag={REPORTING_ORG_TAG}|{ORG}"
    )
    assert entries[5].resource["subject"]["reference"] == "Patient/def"
    assert set(checker.ownership.references) == {
        ("Patient", "abc"),
        ("Organization", "org1"),
        ("Patient", "def"),
    }


def test_conditional_create_and_update_are_confined_to_the_organisation() -> None:
    body = bundle(patient())
    body["entry"][0]["request"]["ifNoneExist"] = (
        f"identifier=urn:oid:2.16.156.10011.1.3|{ID_NUMBER}"
    )
    body["entry"].append(
        {
            "resource": encounter(subject="urn:uuid:p1"),
            "request": {
                "method": "PUT",
                "url": f"Encounter?identifier=x|ZY1&_tag={REPORTING_ORG_TAG}|{OTHER}",
            },
        }
    )
    entries, _ = check(body)
    assert issues(entries) == []
    assert entries[0].if_none_exist is not None and ID_NUMBER not in entries[0].if_none_exist
    assert entries[0].if_none_exist.endswith(f"&_tag={REPORTING_ORG_TAG}|{ORG}")
    assert entries[1].url == f"Encounter?identifier=x|ZY1&_tag={REPORTING_ORG_TAG}|{ORG}"


@pytest.mark.parametrize(
    ("who", "rule"),
    [
        (principal(Role.RESEARCHER, "system/*.rs", None), "role"),
        (principal(Role.QC, "system/*.rs", None), "role"),
        (principal(scopes="system/Patient.c"), "scope"),
    ],
)
def test_roles_and_scopes(who: Principal, rule: str) -> None:
    entries, _ = check(bundle(patient(), encounter()), who)
    assert rule in {r for _, r in issues(entries)}
    assert any(e.forbidden for e in entries)


def test_profiles_structure_and_urls() -> None:
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    wrong_profile = dict(observation, meta={"profile": [profile_url("vte-patient")]})
    broken = encounter(period="not-a-period")
    put = patient(id="p-1")
    body = bundle(patient(), observation, wrong_profile, broken)
    body["entry"].append({"resource": put, "request": {"method": "PUT", "url": "Patient/p-2"}})
    body["entry"].append(
        {"resource": patient(), "request": {"method": "DELETE", "url": "Patient/p-2"}}
    )
    body["entry"].append(
        {
            "resource": {"resourceType": "AuditEvent"},
            "request": {"method": "POST", "url": "AuditEvent"},
        }
    )
    entries, _ = check(body)
    found = issues(entries)
    assert ("Bundle.entry[1].resource.meta.profile", "declare-profile") in found
    assert ("Bundle.entry[2].resource.meta.profile", "known-profile") in found
    assert any(
        loc.startswith("Bundle.entry[3].resource.period") and rule == "structure"
        for loc, rule in found
    )
    assert ("Bundle.entry[4].resource.id", "id-matches-url") in found
    assert ("Bundle.entry[5].request.method", "method") in found
    assert ("Bundle.entry[6].resource.resourceType", "role") in found


def test_hospital_writes_only_its_own_organization() -> None:
    own = {
        "resourceType": "Organization",
        "name": "H",
        "identifier": [{"system": "https://fhir.vte-region.cn/ig/sid/org-uscc", "value": ORG}],
    }
    other = dict(
        own, identifier=[{"system": "https://fhir.vte-region.cn/ig/sid/org-uscc", "value": OTHER}]
    )
    entries, _ = check(bundle(own, other))
    assert issues(entries) == [("Bundle.entry[1].resource.identifier", "own-organisation")]


def test_bundle_level_problems() -> None:
    for body in (
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "collection", "entry": [{}]},
        {"resourceType": "Bundle", "type": "batch", "entry": []},
    ):
        with pytest.raises(InvalidInput):
            parse_bundle(body, 10)
    with pytest.raises(InvalidInput, match="too large"):
        parse_bundle(bundle(*[patient()] * 3), 2)
