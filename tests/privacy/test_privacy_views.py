"""Role views: what QC and researchers see of a stored inpatient stay (facade.privacy.projector)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings as hsettings, strategies as st

from facade.fhir.naming import (
    REGIONAL_PSEUDONYM_SYSTEM,
    REPORTING_ORG_TAG,
    RESEARCH_PSEUDONYM_SYSTEM,
)
from facade.privacy.dates import shift_days
from facade.privacy.projector import Keys, Projector
from facade.privacy.pseudonym import research_pseudonym
from facade.security.roles import View

REPO = Path(__file__).resolve().parents[2]
KEYS = Keys(pseudonym_key=b"p" * 32, research_key=b"r" * 32, shift_max_days=40)
PROJECTOR = Projector.load(REPO / "mappings", REPO / "profiles", KEYS)
REGIONAL = "ab" * 32
ORG = "12330100470116614F"
SECRET_ID = "11010519491231002X"
NAME = "张三丰"
PHONE = "13800138000"


def stay() -> list[dict[str, Any]]:
    tag = {
        "tag": [{"system": REPORTING_ORG_TAG, "code": ORG}],
        "lastUpdated": "2026-01-20T10:00:00Z",
    }
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "meta": tag,
        "text": {"status": "generated", "div": f"<div>{NAME} {SECRET_ID}</div>"},
        "identifier": [
            {"system": REGIONAL_PSEUDONYM_SYSTEM, "value": REGIONAL},
            {
                "system": f"https://fhir.vte-region.cn/ig/sid/record/{ORG}/patient",
                "value": "BA0001",
            },
        ],
        "name": [{"text": NAME}],
        "telecom": [{"system": "phone", "value": PHONE}],
        "address": [
            {"line": ["文三路 1 号"], "city": "杭州市", "district": "西湖区", "state": "浙江省"}
        ],
        "gender": "female",
        "birthDate": "1956-03-14",
        "extension": [{"url": "https://example.org/unknown", "valueString": NAME}],
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "meta": tag,
        "identifier": [
            {
                "system": f"https://fhir.vte-region.cn/ig/sid/record/{ORG}/case",
                "value": "ZY2026000123",
            }
        ],
        "subject": {"reference": "Patient/p1", "display": NAME},
        "period": {"start": "2026-01-05T09:30:00+08:00", "end": "2026-01-19T10:00:00+08:00"},
        "serviceProvider": {"reference": "Organization/o1"},
    }
    assessment = {
        "resourceType": "RiskAssessment",
        "id": "r1",
        "meta": tag,
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/e1"},
        "occurrenceDateTime": "2026-01-05T20:15:00+08:00",
        "note": [{"text": f"家属 {NAME} 电话 {PHONE}"}],
        "mitigation": f"call {PHONE}",
    }
    prophylaxis = {
        "resourceType": "MedicationAdministration",
        "id": "m1",
        "meta": tag,
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2026-01-06T08:00:00+08:00"},
        "performer": [{"actor": {"reference": "Practitioner/d1", "display": "李医生"}}],
    }
    return [patient, encounter, assessment, prophylaxis]


def _dumps(resources: list[dict[str, Any]]) -> str:
    return json.dumps(resources, ensure_ascii=False)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _show(view: View, resource: dict[str, Any], subject: str | None = None) -> dict[str, Any]:
    shown = PROJECTOR.project(view, resource, subject)
    assert shown is not None
    return shown


def test_research_view_has_no_direct_identifiers_and_keeps_intervals() -> None:
    original = stay()
    shown = [_show(View.DEIDENTIFIED, r, REGIONAL) for r in copy.deepcopy(original)]
    text = _dumps(shown)
    for secret in (
        SECRET_ID,
        NAME,
        PHONE,
        "BA0001",
        "ZY2026000123",
        "1956-03-14",
        "文三路",
        "西湖区",
        "李医生",
        REGIONAL,
        '"p1"',
        '"e1"',
        "lastUpdated",
    ):
        assert secret not in text, secret
    patient, encounter, assessment, prophylaxis = shown
    assert patient["identifier"] == [
        {
            "system": RESEARCH_PSEUDONYM_SYSTEM,
            "value": research_pseudonym(REGIONAL, KEYS.research_key),
        }
    ]
    assert patient["birthDate"] == "1956"
    assert "address" not in patient  # the profile prohibits it; the view does not list it
    assert "extension" not in patient and "text" not in patient
    assert encounter["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert assessment["encounter"] == {"reference": f"Encounter/{encounter['id']}"}
    assert "note" not in assessment and "mitigation" not in assessment
    assert patient["meta"]["tag"] == original[0]["meta"]["tag"]  # the reporting hospital is kept
    days = shift_days(KEYS.research_key, REGIONAL, KEYS.shift_max_days)
    start = _when(encounter["period"]["start"])
    assert start - _when(original[1]["period"]["start"]) == timedelta(days=days)
    assert _when(assessment["occurrenceDateTime"]) - start == _when(
        original[2]["occurrenceDateTime"]
    ) - _when(original[1]["period"]["start"])
    assert _when(prophylaxis["effectivePeriod"]["start"]) - _when(
        encounter["period"]["end"]
    ) == _when(original[3]["effectivePeriod"]["start"]) - _when(original[1]["period"]["end"])


def test_research_view_drops_dates_when_patient_unknown() -> None:
    shown = _show(View.DEIDENTIFIED, stay()[2], None)
    assert "occurrenceDateTime" not in shown
    assert shown["subject"]["reference"].startswith("Patient/")


def test_qc_view_pseudonymises_but_keeps_dates() -> None:
    shown = [_show(View.PSEUDONYMISED, r) for r in stay()]
    text = _dumps(shown)
    for secret in (SECRET_ID, NAME, PHONE, "BA0001", "ZY2026000123", "文三路", "李医生"):
        assert secret not in text, secret
    patient, encounter, assessment, _ = shown
    assert {"system": REGIONAL_PSEUDONYM_SYSTEM, "value": REGIONAL} in patient["identifier"]
    tokens = [i["value"] for i in patient["identifier"] if i["system"] != REGIONAL_PSEUDONYM_SYSTEM]
    assert tokens[0].startswith("t-") and tokens == [
        _show(View.PSEUDONYMISED, stay()[0])["identifier"][1]["value"]
    ]
    assert patient["birthDate"] == "1956-03-14"
    assert "address" not in patient
    assert encounter["period"] == stay()[1]["period"]
    assert encounter["id"] == "e1" and assessment["subject"] == {"reference": "Patient/p1"}


def test_stored_view_is_identity() -> None:
    resource = stay()[0]
    assert PROJECTOR.project(View.STORED, resource) is resource


def test_organisation_address_is_generalised_per_view() -> None:
    hospital = {
        "resourceType": "Organization",
        "id": "o1",
        "name": "杭州市第一人民医院",
        "identifier": [{"system": "https://fhir.vte-region.cn/ig/sid/org-uscc", "value": ORG}],
        "telecom": [{"system": "phone", "value": PHONE}],
        "address": [
            {"line": ["文三路 1 号"], "city": "杭州市", "district": "西湖区", "state": "浙江省"}
        ],
    }
    qc = _show(View.PSEUDONYMISED, hospital)
    research = _show(View.DEIDENTIFIED, hospital)
    assert qc["address"] == [{"city": "杭州市", "district": "西湖区", "state": "浙江省"}]
    assert research["address"] == [{"state": "浙江省"}]
    for shown in (qc, research):  # the hospital's public code and name stay, its phone does not
        assert shown["identifier"][0]["value"] == ORG and shown["name"] == hospital["name"]
        assert PHONE not in json.dumps(shown)


def test_types_without_a_view_are_not_shown() -> None:
    assert PROJECTOR.project(View.DEIDENTIFIED, {"resourceType": "Practitioner", "id": "x"}) is None
    assert PROJECTOR.project(View.PSEUDONYMISED, {"resourceType": "AuditEvent", "id": "x"}) is None


# -- property: whatever the shape, personal data placed in personal-data elements never leaks

SECRETS = st.sampled_from([SECRET_ID, NAME, PHONE, "患者王五", "13912345678"])
PII_LEAVES = st.one_of(
    st.builds(lambda s: ("identifier", [{"system": "urn:x", "value": s}]), SECRETS),
    st.builds(lambda s: ("name", [{"text": s, "family": s}]), SECRETS),
    st.builds(lambda s: ("telecom", [{"value": s}]), SECRETS),
    st.builds(lambda s: ("text", {"status": "generated", "div": s}), SECRETS),
    st.builds(lambda s: ("note", [{"text": s}]), SECRETS),
    st.builds(lambda s: ("valueString", s), SECRETS),
    st.builds(
        lambda s: ("address", [{"line": [s], "postalCode": s, "text": s, "district": "西湖区"}]),
        SECRETS,
    ),
    st.builds(
        lambda s: ("performer", [{"actor": {"reference": "Practitioner/x", "display": s}}]), SECRETS
    ),
    st.builds(
        lambda s: ("extension", [{"url": "https://unknown.example/x", "valueCode": s}]), SECRETS
    ),
    st.builds(lambda s: ("valueIdentifier", {"value": s}), SECRETS),
    st.builds(lambda s: ("valueHumanName", {"text": s}), SECRETS),
    st.builds(
        lambda s: ("subject", {"reference": "Patient/p1", "identifier": {"value": s}}), SECRETS
    ),
)
NEUTRAL_KEYS = st.sampled_from(
    ["component", "valueCodeableConcept", "item", "detail", "hospitalization", "dosage"]
)


def _tree(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    leaf = PII_LEAVES.map(lambda kv: {kv[0]: kv[1], "code": "x"})
    if depth == 0:
        return leaf
    child = _tree(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda k, c: {k: c, "status": "final"}, NEUTRAL_KEYS, child),
        st.builds(lambda k, cs: {k: cs}, NEUTRAL_KEYS, st.lists(child, min_size=1, max_size=3)),
        st.builds(
            lambda c: {
                "extension": [{"url": "https://fhir.vte-region.cn/ig/StructureDefinition/x", **c}]
            },
            child,
        ),
    )


@given(
    st.sampled_from([View.DEIDENTIFIED, View.PSEUDONYMISED]),
    st.sampled_from(["Patient", "Observation", "Encounter", "RiskAssessment"]),
    st.lists(_tree(3), min_size=1, max_size=4),
)
@hsettings(max_examples=400, deadline=None)
def test_personal_data_never_leaks_from_qc_or_research_views(
    view: View, rtype: str, parts: list[dict[str, Any]]
) -> None:
    resource: dict[str, Any] = {
        "resourceType": rtype,
        "id": "x1",
        "subject": {"reference": "Patient/p1"},
    }
    for part in parts:
        for key, value in part.items():
            resource.setdefault(f"{key}", value)
    shown = PROJECTOR.project(view, copy.deepcopy(resource), REGIONAL)
    text = json.dumps(shown, ensure_ascii=False)
    for secret in (SECRET_ID, NAME, PHONE, "患者王五", "13912345678"):
        assert secret not in text


@given(
    st.lists(
        st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2090, 1, 1)),
        min_size=1,
        max_size=6,
    )
)
@hsettings(max_examples=200, deadline=None)
def test_no_real_full_date_survives_research_view(moments: list[datetime]) -> None:
    values = [m.strftime("%Y-%m-%dT%H:%M:%S+08:00") for m in moments]
    resource = {
        "resourceType": "Observation",
        "id": "o1",
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": values[0],
        "component": [{"valueDateTime": v} for v in values[1:]],
        "valuePeriod": {"start": values[0][:10]},
    }
    text = json.dumps(PROJECTOR.project(View.DEIDENTIFIED, resource, REGIONAL))
    for value in values:
        assert value[:10] not in text
