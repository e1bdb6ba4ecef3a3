"""Rules as data: mappings/quality loads into checks that cover the dictionary; bad files name file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.quality.rules import QualityRuleError, load_rules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return load_dictionary(REPO / "mappings")


def test_families_expand_over_the_dictionary(dictionary: Dictionary) -> None:
    rules = load_rules(REPO / "mappings" / "quality", dictionary)
    ids = set(rules.checks)
    coded = {
        f"conformance.code-table.{rt.record_type}." + (f"{g.name}.{f.name}" if g else f.name)
        for rt in dictionary.record_types.values()
        for g, f in rt.all_fields()
        if f.code_table
    }
    assert coded == {i for i in ids if i.startswith("conformance.code-table.")}
    required = {i for i in ids if i.startswith("completeness.required.")}
    for rt in dictionary.record_types.values():
        for field in rt.fields:
            if field.required and field.name not in ("recordId", "recordVersion"):
                assert f"completeness.required.{rt.record_type}.{field.name}" in required
    # fields refused because another rule needs them
    assert "completeness.required.case.dischargeDisposition" in required
    assert "completeness.required.mech-contraindication.reasons" in required
    assert "completeness.required.vte-risk.items.itemName" in required
    assert not any(i.endswith((".recordId", ".recordVersion")) for i in required)
    for check in rules.checks.values():
        assert check.dimension in {d.id for d in rules.config.dimensions}
        assert check.spec.kahn.category in rules.config.dimension(check.dimension).kahn
        assert check.denominator, check.id


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "quality"
    shutil.copytree(REPO / "mappings" / "quality", target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "volume.yaml",
            "    ratio: 0.5",
            "    ratio: 0.5\n    colour: red",
            "volume.yaml: rules.1.daily-drop.colour",
        ),
        (
            "timeliness.yaml",
            "dimension: timeliness",
            "dimension: punctuality",
            "dimension: unknown dimension 'punctuality'",
        ),
        (
            "volume.yaml",
            "kahn: {category: plausibility, subcategory: atemporal}",
            "kahn: {category: completeness}",
            "'completeness' is not allowed under accuracy",
        ),
        (
            "completeness.yaml",
            "        - {field: inpatientNo}",
            "        - {field: sex}",
            "case.sex is required",
        ),
        (
            "completeness.yaml",
            "        - {field: inpatientNo}",
            "        - {field: bedNo}",
            "case has no field 'bedNo'",
        ),
        (
            "plausibility.yaml",
            "      wells: [caseRecordId, wellsVariant, assessmentDateTime]",
            "      dvt: [caseRecordId]",
            "unknown record type 'dvt'",
        ),
        (
            "_config.yaml",
            "  case: [admissionDateTime]",
            "  case: [birthDate]",
            "'birthDate' is not a date-time field",
        ),
        (
            "timeliness.yaml",
            "    threshold: 0.05\n    name: {zh: 出院",
            "    threshold: 5\n    name: {zh: 出院",
            "timeliness.yaml: rules.0.lag.threshold",
        ),
    ],
)
def test_a_bad_file_names_the_file_and_key(
    tmp_path: Path, dictionary: Dictionary, file: str, old: str, new: str, message: str
) -> None:
    folder = _copy(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(QualityRuleError) as caught:
        load_rules(folder, dictionary)
    assert message in str(caught.value)
