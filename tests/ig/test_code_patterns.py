"""Code patterns: every real code of the research notes passes, malformed ones fail, profiles agree.

The dictionary's ``pattern`` (native door, Excel, mapping) and the profile invariants (FHIR door,
checked by HAPI) carry the same regular expression, so both doors accept the same codes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.dictionary.models import Field
from facade.ig.consistency import IgIndex, check_consistency, invariant_patterns
from facade.synth.clinical import COMORBIDITIES, OPERATIONS, PRINCIPAL
from facade.synth.records import EVENT_CODES, VTE_CODES

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "profiles" / "fsh-generated" / "resources"
CODES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "reference_codes.yaml").read_text())
ICD10 = "urn:oid:2.16.156.10011.2.3.3.11"
ICD9CM3 = "urn:oid:2.16.156.10011.2.3.3.12"


def expand(items: list[str]) -> list[str]:
    """Codes with the notes' ranges spelled out: ``A40.0-A40.9``, ``C00-C97``, ``I26.900x001-...x018``."""
    codes: list[str] = []
    for item in items:
        first, dash, last = item.partition("-")
        if not dash or not first or not last:
            codes.append(item)
            continue
        stem = re.match(r"^(.*?)(\d+)$", first)
        end = re.match(r"^(.*?)(\d+)$", last)
        assert stem and end and stem.group(1) == end.group(1), item
        width = len(stem.group(2))
        for number in range(int(stem.group(2)), int(end.group(2)) + 1):
            codes.append(f"{stem.group(1)}{number:0{width}d}")
    return codes


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return load_dictionary(REPO / "mappings")


def _field(dictionary: Dictionary, record_type: str, name: str, group: str | None = None) -> Field:
    for owner, field in dictionary.record_types[record_type].all_fields():
        if field.name == name and (owner.name if owner else None) == group:
            return field
    raise AssertionError(f"no field {record_type}.{group}.{name}")


def _accepts(field: Field, code: str) -> bool:
    assert field.pattern is not None
    fits = field.max_length is None or len(code) <= field.max_length
    return fits and re.fullmatch(field.pattern, code) is not None


def test_expand_spells_out_ranges() -> None:
    assert expand(["C00-C02", "89.60-89.62", "I26.900x017-I26.900x018", "A40.9"]) == [
        "C00",
        "C01",
        "C02",
        "89.60",
        "89.61",
        "89.62",
        "I26.900x017",
        "I26.900x018",
        "A40.9",
    ]


def test_every_vte_code_of_the_notes_is_a_vte_event_code(dictionary: Dictionary) -> None:
    event = _field(dictionary, "vte-event", "icd10Code")
    vte = expand(CODES["icd10"]["vte"])
    assert {"I26.0", "I26.900", "I26.900x001", "I26.900x018", "I80.200x003"} <= set(vte)
    assert [c for c in vte if not _accepts(event, c)] == []


def test_non_vte_us_only_and_malformed_codes_are_not_vte_event_codes(
    dictionary: Dictionary,
) -> None:
    event = _field(dictionary, "vte-event", "icd10Code")
    refused = expand(CODES["icd10"]["other"] + CODES["icd10"]["us_only"])
    refused += CODES["malformed_icd10"] + ["I26.1", "I80.0", "I80.4", "I82.5", "I26.9000"]
    assert [c for c in refused if _accepts(event, c)] == []


def test_every_icd10_code_of_the_notes_is_a_diagnosis_code(dictionary: Dictionary) -> None:
    diagnosis = _field(dictionary, "case", "icd10Code", group="diagnoses")
    codes = expand(CODES["icd10"]["vte"] + CODES["icd10"]["other"])
    assert len(codes) > 150
    assert [c for c in codes if not _accepts(diagnosis, c)] == []
    assert [c for c in CODES["malformed_icd10"] if _accepts(diagnosis, c)] == []


def test_every_icd9cm3_code_of_the_notes_is_an_operation_code(dictionary: Dictionary) -> None:
    operation = _field(dictionary, "case", "operationCode", group="operations")
    assert [c for c in expand(CODES["icd9cm3"]["accepted"]) if not _accepts(operation, c)] == []
    assert [c for c in CODES["malformed_icd9cm3"] if _accepts(operation, c)] == []


def test_the_generator_uses_real_code_shapes_the_rules_accept(dictionary: Dictionary) -> None:
    event = _field(dictionary, "vte-event", "icd10Code")
    diagnosis = _field(dictionary, "case", "icd10Code", group="diagnoses")
    operation = _field(dictionary, "case", "operationCode", group="operations")
    event_codes = [code for choices in EVENT_CODES.values() for code, _name in choices]
    assert [c for c in event_codes if not _accepts(event, c)] == []
    # dotted pulmonary-embolism codes, not just the category (issue 10)
    assert any(c.startswith("I26.") for c in event_codes)
    vte = [pair for choices in VTE_CODES.values() for pair in choices]
    front_page = [c for c, _ in (*PRINCIPAL.values(), *COMORBIDITIES, *vte)]
    assert [c for c in front_page if not _accepts(diagnosis, c)] == []
    assert [c for c, _ in OPERATIONS.values() if not _accepts(operation, c)] == []


@pytest.mark.parametrize(
    ("record_type", "group", "name", "profile", "system"),
    [
        ("vte-event", None, "icd10Code", "vte-event", ICD10),
        ("case", "diagnoses", "icd10Code", "vte-encounter-diagnosis", ICD10),
        ("case", "operations", "operationCode", "vte-operation", ICD9CM3),
    ],
)
def test_profile_invariants_carry_the_dictionary_pattern(
    dictionary: Dictionary,
    record_type: str,
    group: str | None,
    name: str,
    profile: str,
    system: str,
) -> None:
    field = _field(dictionary, record_type, name, group=group)
    assert field.code_system == system
    sd = json.loads((RESOURCES / f"StructureDefinition-{profile}.json").read_text())
    assert invariant_patterns(sd, system) == {field.pattern}


def test_every_coded_pattern_field_is_covered_above(dictionary: Dictionary) -> None:
    covered = {("vte-event", None, "icd10Code"), ("case", "diagnoses", "icd10Code")}
    covered.add(("case", "operations", "operationCode"))
    with_pattern = {
        (record.record_type, owner.name if owner else None, field.name)
        for record in dictionary.record_types.values()
        for owner, field in record.all_fields()
        if field.pattern and field.code_system
    }
    assert with_pattern == covered


def test_the_consistency_check_reports_a_pattern_drift(
    dictionary: Dictionary, core_dir: Path
) -> None:
    event = _field(dictionary, "vte-event", "icd10Code")
    object.__setattr__(event, "pattern", "^I26$")
    problems = check_consistency(dictionary, IgIndex(RESOURCES, core_dir))
    assert [p for p in problems if "vte-event" in p and "^I26$" in p]
