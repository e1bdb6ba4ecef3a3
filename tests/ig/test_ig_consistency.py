"""Dictionary ↔ profiles ↔ code tables agree; the checker catches each kind of disagreement."""

from __future__ import annotations

from pathlib import Path

import pytest

from facade.dictionary.codetables import Concept
from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Target
from facade.ig.consistency import IgIndex, check_consistency

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "profiles" / "fsh-generated" / "resources"


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return load_dictionary(REPO / "mappings")


@pytest.fixture(scope="module")
def index(core_dir: Path) -> IgIndex:
    return IgIndex(RESOURCES, core_dir)


def test_every_field_target_exists_and_every_table_matches(
    dictionary: Dictionary, index: IgIndex
) -> None:
    assert check_consistency(dictionary, index) == []


def test_every_coded_field_has_a_code_system_with_the_same_codes(
    dictionary: Dictionary, index: IgIndex
) -> None:
    for record in dictionary.record_types.values():
        for _, field in record.all_fields():
            if field.code_table:
                table = dictionary.code_table(field.code_table)
                generated = index.by_url[table.system]
                assert [c["code"] for c in generated["concept"]] == table.codes
                assert [c["display"] for c in generated["concept"]] == [
                    c.zh for c in table.concepts
                ]


def _with_target(
    dictionary: Dictionary, record_type: str, field_name: str, target: Target
) -> Dictionary:
    record = dictionary.record_types[record_type]
    fields = [
        f.model_copy(update={"fhir": [target]}) if f.name == field_name else f
        for f in record.fields
    ]
    records = {**dictionary.record_types, record_type: record.model_copy(update={"fields": fields})}
    return Dictionary(dictionary.root, dictionary.code_tables, records, dictionary.indicators)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            Target(resource="patient", path="name[0].text"),
            "profile vte-patient prohibits Patient.name",
        ),
        (Target(resource="patient", path="birthDay"), "Patient has no element birthDay"),
        (
            Target(
                resource="patient",
                path="extension[url=${canonical}/StructureDefinition/icu-stay].valueString",
            ),
            "profile vte-patient does not allow extension",
        ),
        (
            Target(
                resource="patient",
                path="extension[url=${canonical}/StructureDefinition/nope].valueString",
            ),
            "no extension https://fhir.vte-region.cn/ig/StructureDefinition/nope in the guide",
        ),
        (
            Target(
                resource="patient",
                path="extension[url=${canonical}/StructureDefinition/gbt-2261-1-sex].valueString",
            ),
            "does not allow valueString",
        ),
        (
            Target(
                resource="encounter",
                path="extension[url=${canonical}/StructureDefinition/icu-stay].extension[url=ward].valueString",
            ),
            "has no sub-extension 'ward'",
        ),
        (
            Target(
                resource="encounter", path="hospitalization.dischargeDisposition.coding[0].colour"
            ),
            "Coding has no element colour",
        ),
    ],
)
def test_broken_targets_are_reported(
    dictionary: Dictionary, index: IgIndex, target: Target, problem: str
) -> None:
    problems = check_consistency(_with_target(dictionary, "case", "birthDate", target), index)
    assert len(problems) == 1
    assert problems[0].startswith("case: birthDate: ") and problem in problems[0]


def test_a_code_table_that_drifted_from_its_code_system_is_reported(
    dictionary: Dictionary, index: IgIndex
) -> None:
    table = dictionary.code_table("vte-site")
    drifted = table.model_copy(
        update={"concepts": [*table.concepts, Concept(code="77", zh="新部位", en="New site")]}
    )
    changed = Dictionary(
        dictionary.root,
        {**dictionary.code_tables, "vte-site": drifted},
        dictionary.record_types,
        dictionary.indicators,
    )
    problems = check_consistency(changed, index)
    assert any(p.startswith("code table vte-site: CodeSystem codes") for p in problems)
    assert any(p.startswith("vte-event: site: CodeSystem codes") for p in problems)
