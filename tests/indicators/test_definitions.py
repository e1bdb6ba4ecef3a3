"""Indicator definitions load from YAML into strict models; mistakes name the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from facade.dictionary.loader import load_dictionary
from facade.indicators.definitions import (
    DefinitionError,
    PopulationCode,
    load_definitions,
)

REPO = Path(__file__).resolve().parents[2]
INDICATORS = REPO / "mappings" / "indicators"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "indicators"
    shutil.copytree(INDICATORS, target)
    return target


def test_every_file_loads_with_its_id_and_a_unique_slug() -> None:
    loaded = load_definitions(INDICATORS)
    files = sorted(p.stem for p in INDICATORS.glob("*.yaml") if p.name != "_config.yaml")
    assert sorted(loaded.indicators) == files
    assert len({i.slug for i in loaded.indicators.values()}) == len(files)


def test_the_issue_working_set_is_defined() -> None:
    loaded = load_definitions(INDICATORS)
    # risk assessment, 24 h, bleeding (two denominators), national target, drug and mechanical,
    # HA-VTE incidence, case fatality, preventable share, post-operative PE and DVT
    assert {"A1", "A1t", "A2", "A2m", "B1", "B2", "B3", "C1", "C2", "C4", "C5", "C6"} <= set(
        loaded.indicators
    )


def test_every_indicator_the_dictionary_names_has_a_definition() -> None:
    catalogue = load_dictionary(REPO / "mappings").indicators
    assert set(catalogue) <= set(load_definitions(INDICATORS).indicators)


def test_populations_nest_initial_denominator_numerator() -> None:
    b1 = load_definitions(INDICATORS).indicators["B1"]
    kinds = {code: [c.kind for c in b1.chain(code)] for code in b1.codes}
    assert kinds == {
        PopulationCode.INITIAL: [],
        PopulationCode.DENOMINATOR: ["risk-band"],
        PopulationCode.NUMERATOR: ["risk-band", "appropriate-prophylaxis"],
    }


def test_unknown_key_is_refused_naming_file_and_key(copy: Path) -> None:
    data = yaml.safe_load((copy / "A1.yaml").read_text(encoding="utf-8"))
    data["populations"]["numerator"]["criteria"][0]["colour"] = "red"
    (copy / "A1.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        DefinitionError,
        match=r"^A1\.yaml: populations\.numerator\.criteria\.0\.vte-risk-assessed\.colour",
    ):
        load_definitions(copy)


def test_unknown_criterion_kind_is_refused(copy: Path) -> None:
    text = (
        (copy / "B2.yaml")
        .read_text(encoding="utf-8")
        .replace("kind: prophylaxis-given", "kind: prophylaxis-maybe")
    )
    (copy / "B2.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^B2\.yaml: populations\.numerator\.criteria\.0"):
        load_definitions(copy)


def test_a_band_the_rules_do_not_know_is_refused(copy: Path) -> None:
    text = (
        (copy / "B1.yaml")
        .read_text(encoding="utf-8")
        .replace("bands: [medium, high]", "bands: [medium, extreme]")
    )
    (copy / "B1.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(
        DefinitionError, match=r"B1\.yaml: populations\.denominator\.criteria\[0\]\.bands.*extreme"
    ):
        load_definitions(copy)


def test_file_name_must_equal_id(copy: Path) -> None:
    (copy / "A1.yaml").rename(copy / "A9.yaml")
    with pytest.raises(DefinitionError, match=r"A9\.yaml: id: 'A1' must equal the file name"):
        load_definitions(copy)


def test_matrix_needs_a_fallback_row_for_every_band(copy: Path) -> None:
    lines = (copy / "_config.yaml").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if 'tool: "*", band: low,' not in line]
    (copy / "_config.yaml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(
        DefinitionError, match=r"_config\.yaml: .*fallback row \(tool '\*'\) for band 'low'"
    ):
        load_definitions(copy)


def test_bands_must_ascend_from_zero(copy: Path) -> None:
    text = (
        (copy / "_config.yaml")
        .read_text(encoding="utf-8")
        .replace("{band: medium, from: 3}", "{band: medium, from: 6}")
    )
    (copy / "_config.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="strictly ascend"):
        load_definitions(copy)


@pytest.mark.parametrize(
    ("tool", "score", "band"),
    [
        ("1", 0, "very-low"),
        ("1", 2, "low"),
        ("1", 3, "medium"),
        ("1", 4.5, "medium"),
        ("1", 5, "high"),
        ("1", 20, "high"),
        ("2", 3, "low"),
        ("2", 3.5, "low"),
        ("2", 4, "high"),
    ],
)
def test_configured_cutoffs(tool: str, score: float, band: str) -> None:
    bands = load_definitions(INDICATORS).rules.tool_bands(tool)
    assert bands is not None and bands.band_of(score) == band


def test_changing_a_cutoff_in_yaml_changes_the_band(copy: Path) -> None:
    text = (
        (copy / "_config.yaml")
        .read_text(encoding="utf-8")
        .replace("{band: high, from: 4}]", "{band: high, from: 5}]")
    )
    (copy / "_config.yaml").write_text(text, encoding="utf-8")
    padua = load_definitions(copy).rules.tool_bands("2")
    assert padua is not None and padua.band_of(4) == "low"


def test_matrix_falls_back_to_the_any_tool_row() -> None:
    rules = load_definitions(INDICATORS).rules
    assert rules.matrix_row("1", "medium").tool == "1"
    assert rules.matrix_row("4", "medium").tool == "*"
    assert str(rules.tz) == "UTC+08:00"
