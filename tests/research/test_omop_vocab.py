"""OMOP tables from de-identified resources: source values always, concept ids only from a loaded
vocabulary (a small Athena-format export written here), 0 without one, rows routed by domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from facade.db import Database
from facade.errors import InvalidInput
from facade.research import vocab
from facade.research.omop import OmopBuilder, load_config
from facade.research.vocab import Vocabulary

CONFIG = load_config(Path(__file__).resolve().parents[2] / "mappings" / "research" / "omop.yaml")
HEADER = "concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\tconcept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason"
CONCEPTS = [
    (8507, "MALE", "Gender", "Gender", "Gender", "S", "M"),
    (8532, "FEMALE", "Gender", "Gender", "Gender", "S", "F"),
    (9201, "Inpatient Visit", "Visit", "Visit", "Visit", "S", "IP"),
    (32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976890"),
    (35207999, "Deep vein thrombosis", "Condition", "ICD10CN", "ICD10 code", "", "I80.2"),
    (35208000, "Pneumonia", "Condition", "ICD10CN", "ICD10 code", "", "J18.9"),
    (
        4133004,
        "Deep venous thrombosis",
        "Condition",
        "SNOMED",
        "Clinical Finding",
        "S",
        "128053003",
    ),
    (2007999, "Craniotomy", "Procedure", "ICD9ProcCN", "4-dig billing code", "", "01.24"),
    (4000001, "Evacuation (observable)", "Observation", "SNOMED", "Procedure", "S", "999"),
    (1, "Unrelated", "Condition", "MedDRA", "PT", "S", "X"),
]
RELATIONS = [(35207999, 4133004), (2007999, 4000001), (8507, 8507), (8532, 8532)]


def write_vocabulary(directory: Path) -> Path:
    """A tiny Athena export: tab-separated, the columns Athena ships."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [
        "\t".join([str(c[0]), c[1], c[2], c[3], c[4], c[5], c[6], "19700101", "20991231", ""])
        for c in CONCEPTS
    ]
    (directory / "CONCEPT.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rel = [
        "concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason"
    ]
    rel += [f"{a}\t{b}\tMaps to\t19700101\t20991231\t" for a, b in RELATIONS]
    rel += ["35208000\t4133004\tMaps to\t19700101\t20991231\tD"]  # invalidated: ignored
    (directory / "CONCEPT_RELATIONSHIP.csv").write_text("\n".join(rel) + "\n", encoding="utf-8")
    return directory


def _resources() -> list[dict[str, Any]]:
    icd10 = "urn:oid:2.16.156.10011.2.3.3.11"
    icd9 = "urn:oid:2.16.156.10011.2.3.3.12"
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "gender": "male",
        "birthDate": "1950",
        "identifier": [
            {"system": "https://fhir.vte-region.cn/ig/sid/research-pseudonym", "value": "rp1"}
        ],
    }
    twin = {
        "resourceType": "Patient",
        "id": "p2",
        "gender": "male",
        "birthDate": "1950",
        "identifier": [
            {"system": "https://fhir.vte-region.cn/ig/sid/research-pseudonym", "value": "rp1"}
        ],
    }
    stay = {
        "resourceType": "Encounter",
        "id": "e1",
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2026-02-01T08:00:00+08:00", "end": "2026-02-09T10:00:00+08:00"},
        "hospitalization": {
            "dischargeDisposition": {
                "coding": [{"system": "urn:oid:2.16.156.10011.2.3.1.265", "code": "5"}]
            }
        },
        "meta": {
            "tag": [
                {
                    "system": "https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization",
                    "code": "H1",
                }
            ]
        },
    }
    return [
        patient,
        twin,
        stay,
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "code": {"coding": [{"system": icd10, "code": "I80.200"}]},
        },
        {
            "resourceType": "Condition",
            "id": "c2",
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "code": {"coding": [{"system": icd10, "code": "J18.900"}]},
        },
        {
            "resourceType": "Procedure",
            "id": "o1",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "code": {"coding": [{"system": icd9, "code": "01.2401"}]},
            "performedPeriod": {
                "start": "2026-02-02T09:00:00+08:00",
                "end": "2026-02-02T11:00:00+08:00",
            },
        },
        {
            "resourceType": "Procedure",
            "id": "o2",
            "status": "not-done",
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "category": {
                "coding": [
                    {
                        "system": "https://fhir.vte-region.cn/ig/CodeSystem/prophylaxis-category",
                        "code": "2",
                    }
                ]
            },
        },
    ]


def _build(vocabulary: Vocabulary) -> dict[str, list[dict[str, Any]]]:
    builder = OmopBuilder(vocabulary, CONFIG)
    for resource in _resources():
        builder.add(resource)
    return builder.rows


def test_without_a_vocabulary_every_concept_is_zero_and_sources_are_kept() -> None:
    rows = _build(Vocabulary.empty())
    assert len(rows["person"]) == 1  # two hospital Patients, one research pseudonym
    assert rows["person"][0]["gender_concept_id"] == 0
    visit = rows["visit_occurrence"][0]
    assert visit["visit_concept_id"] == 0 and visit["discharged_to_source_value"] == "5"
    conditions = rows["condition_occurrence"]
    assert [c["condition_source_value"] for c in conditions] == ["I80.200", "J18.900"]
    assert {c["condition_concept_id"] for c in conditions} == {0}
    assert [p["procedure_source_value"] for p in rows["procedure_occurrence"]] == [
        "01.2401"
    ]  # not-done left out
    assert rows["death"][0]["death_date"].isoformat() == "2026-02-09"
    assert rows["care_site"][0]["care_site_source_value"] == "H1"


def test_a_loaded_vocabulary_fills_standard_concepts_and_routes_by_domain(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'v.db'}")
    database.upgrade()
    loaded = vocab.load(
        database, write_vocabulary(tmp_path / "athena"), set(CONFIG.source_vocabularies)
    )
    assert loaded.concepts == 9 - 1 + 1  # source vocabularies + SNOMED targets, not MedDRA
    rows = _build(Vocabulary.from_database(database))
    assert rows["person"][0]["gender_concept_id"] == 8507
    assert rows["visit_occurrence"][0]["visit_concept_id"] == 9201
    assert rows["visit_occurrence"][0]["visit_type_concept_id"] == 32817
    dvt, pneumonia = rows["condition_occurrence"]
    # I80.200 (national edition) falls back to the ICD10CN stem I80.2, which maps to SNOMED DVT
    assert (
        dvt["condition_concept_id"],
        dvt["condition_source_concept_id"],
        dvt["condition_source_value"],
    ) == (4133004, 35207999, "I80.200")
    # J18.9 is a source concept whose only Maps to is invalidated: source id, standard 0
    assert (pneumonia["condition_concept_id"], pneumonia["condition_source_concept_id"]) == (
        0,
        35208000,
    )
    # the operation's standard concept is in the Observation domain: routed to observation
    assert rows["procedure_occurrence"] == []
    assert rows["observation"][0]["observation_concept_id"] == 4000001
    assert rows["observation"][0]["observation_source_value"] == "01.2401"
    database.dispose()


def test_a_directory_without_an_athena_export_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'v.db'}")
    database.upgrade()
    with pytest.raises(InvalidInput, match=r"CONCEPT\.csv"):
        vocab.load(database, tmp_path, {"ICD10CN"})
    database.dispose()
