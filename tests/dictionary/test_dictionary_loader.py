"""Loading mappings/: the real dictionary, and a clear file-and-key error for every kind of mistake."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from facade.dictionary.loader import DictionaryError, load_dictionary
from facade.dictionary.models import MAIN

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
RECORD_TYPES = {
    "organization",
    "case",
    "vte-risk",
    "bleeding-risk",
    "mech-contraindication",
    "wells",
    "prophylaxis",
    "vte-event",
}


@pytest.fixture(scope="module")
def dictionary():  # type: ignore[no-untyped-def]
    return load_dictionary(MAPPINGS)


def test_every_record_type_of_the_standard_is_covered(dictionary) -> None:  # type: ignore[no-untyped-def]
    assert set(dictionary.record_types) == RECORD_TYPES
    services = [r.service_code for r in dictionary.record_types.values()]
    assert len(set(services)) == len(services)
    assert dictionary.by_service_code("VTE.CASE.UPLOAD").record_type == "case"
    assert dictionary.by_service_code("VTE.NOPE") is None


def test_common_fields_lead_every_record_type(dictionary) -> None:  # type: ignore[no-untyped-def]
    for record in dictionary.record_types.values():
        assert [f.name for f in record.fields[:2]] == ["recordId", "recordVersion"]
        assert record.fields[0].fhir[0].resource == MAIN


def test_case_record_covers_the_front_page_items(dictionary) -> None:  # type: ignore[no-untyped-def]
    case = dictionary.record_types["case"]
    names = {f.name for _, f in case.all_fields()}
    assert {
        "orgCode",
        "patientId",
        "idType",
        "idNumber",
        "sex",
        "birthDate",
        "admissionDateTime",
        "dischargeDateTime",
        "admissionDeptCode",
        "dischargeWardCode",
        "dischargeDisposition",
        "icd10Code",
        "admissionCondition",
        "operationCode",
        "operationStart",
        "operationEnd",
        "icuInDateTime",
    } <= names
    assert {g.name: g.maps_to for g in case.groups} == {
        "diagnoses": "resources",
        "operations": "resources",
        "icuStays": "elements",
    }


def test_identity_number_is_only_forwarded_as_a_pseudonym(dictionary) -> None:  # type: ignore[no-untyped-def]
    for record in dictionary.record_types.values():
        for _, field in record.all_fields():
            if field.type == "identity-number":
                assert [t.transform for t in field.fhir] == ["regional-pseudonym"]
                assert field.fhir[0].path == "identifier[system=${pseudonym}].value"
            if field.name == "patientName":
                assert not field.forwarded and not field.fhir


def test_coded_fields_name_tables_that_exist(dictionary) -> None:  # type: ignore[no-untyped-def]
    for record in dictionary.record_types.values():
        for _, field in record.all_fields():
            if field.code_table:
                table = dictionary.code_table(field.code_table)
                if field.example is not None:
                    assert table.concept(str(field.example)), (
                        f"{record.record_type}.{field.name} example"
                    )


def test_national_tables_use_their_oid_as_system(dictionary) -> None:  # type: ignore[no-untyped-def]
    assert dictionary.code_table("gbt-2261-1-sex").system == "urn:oid:2.16.156.10011.2.3.3.4"
    assert (
        dictionary.code_table("cv06-00-226-discharge-disposition").system
        == "urn:oid:2.16.156.10011.2.3.1.265"
    )
    assert dictionary.code_table("vte-risk-level").system.endswith("/CodeSystem/vte-risk-level")
    table, cmap = dictionary.concept_map("cv06-00-226-to-discharge-disposition")
    assert table.id == "cv06-00-226-discharge-disposition" and cmap.translate("5").code == "exp"


# --- broken copies: each mutation must fail with the file and the key in the message


def _broken(tmp_path: Path, relative: str, mutate: Callable[[dict], None]) -> Path:  # type: ignore[type-arg]
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    path = root / relative
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def _field(data: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(f for f in data["fields"] if f["name"] == name)


@pytest.mark.parametrize(
    ("relative", "mutate", "expected"),
    [
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex").update(colour="red"),
            "dictionary/case.yaml: fields[5](sex).colour: Extra inputs are not permitted",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex").update(type="number"),
            "dictionary/case.yaml: fields[5](sex).type:",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex").update(code_table="no-such-table"),
            "dictionary/case.yaml: fields(sex).code_table: unknown code table 'no-such-table'",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex")["fhir"][0].update(resource="nobody"),
            "dictionary/case.yaml: fields(sex).fhir: unknown resource alias 'nobody'",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex")["fhir"][0].update(path="gender..x"),
            "dictionary/case.yaml: fields[5](sex).fhir[0].path",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "birthDate").update(indicators=["Z9"]),
            "dictionary/case.yaml: fields(birthDate).indicators: unknown indicator ids ['Z9']",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "sex")["fhir"][0].update(concept_map="vte-event-type-to-snomed"),
            "concept map 'vte-event-type-to-snomed' is not one of gbt-2261-1-sex's",
        ),
        (
            "dictionary/case.yaml",
            lambda d: _field(d, "patientName").update(forwarded=True),
            "fields[4](patientName): Value error, a forwarded field needs fhir targets",
        ),
        (
            "dictionary/case.yaml",
            lambda d: d.update(main="nobody"),
            "dictionary/case.yaml: main: 'nobody' is not a resource alias",
        ),
        (
            "dictionary/case.yaml",
            lambda d: d.update(record_type="kase"),
            "dictionary/case.yaml: record_type: 'kase' must equal the file name",
        ),
        (
            "dictionary/wells.yaml",
            lambda d: d.update(service_code="VTE.CASE.UPLOAD"),
            "service_code: VTE.CASE.UPLOAD is also used by case",
        ),
        (
            "dictionary/prophylaxis.yaml",
            lambda d: _field(d, "drugCode").update(
                required_when={"field": "category", "codes": ["7"]}
            ),
            "fields(drugCode).required_when: codes ['7'] are not in code table 'prophylaxis-category'",
        ),
        (
            "code-tables/vte-risk-level.yaml",
            lambda d: d["concepts"].append(dict(d["concepts"][0])),
            "code-tables/vte-risk-level.yaml: (document): Value error, duplicate code '1'",
        ),
        (
            "code-tables/vte-risk-level.yaml",
            lambda d: d["concept_maps"][0]["mappings"].update({"9": {"code": "high"}}),
            "maps unknown codes ['9']",
        ),
        (
            "code-tables/hospital-grade.yaml",
            lambda d: d["concepts"][0]["properties"].update(level="three"),
            "code '31': property 'level' is not a integer",
        ),
    ],
)
def test_mistakes_are_reported_with_file_and_key(
    tmp_path: Path,
    relative: str,
    mutate: Callable[[dict], None],
    expected: str,  # type: ignore[type-arg]
) -> None:
    root = _broken(tmp_path, relative, mutate)
    with pytest.raises(DictionaryError) as caught:
        load_dictionary(root)
    assert expected in caught.value.message


def test_invalid_yaml_and_missing_common_file(tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    (root / "dictionary" / "wells.yaml").write_text("fields: [unclosed", encoding="utf-8")
    with pytest.raises(DictionaryError, match=r"dictionary/wells\.yaml: not valid YAML"):
        load_dictionary(root)
    (root / "dictionary" / "_common.yaml").unlink()
    with pytest.raises(DictionaryError, match=r"dictionary/_common\.yaml: file is missing"):
        load_dictionary(root)
