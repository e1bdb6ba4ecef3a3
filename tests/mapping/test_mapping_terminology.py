"""Code translation uses the implementation guide's generated ConceptMaps, which equal the code tables'."""

from __future__ import annotations

from pathlib import Path

import pytest

from facade.errors import ConfigurationError
from facade.mapping.engine import MappingEngine
from facade.mapping.terminology import Terminology


def test_generated_concept_maps_equal_the_code_tables(engine: MappingEngine) -> None:
    declared = {
        cmap.id: (table, cmap)
        for table in engine.dictionary.code_tables.values()
        for cmap in table.concept_maps
    }
    assert set(engine.terminology.maps) == set(declared)
    for map_id, (table, cmap) in declared.items():
        loaded = engine.terminology.table(map_id)
        assert loaded.url == cmap.url
        assert loaded.source_system == table.system
        assert loaded.target_system == cmap.target_system
        assert {k: v.code for k, v in loaded.forward.items()} == {
            k: v.code for k, v in cmap.mappings.items()
        }


@pytest.mark.parametrize(
    ("map_id", "code", "target"),
    [
        ("gbt-2261-1-sex-to-administrative-gender", "5", "male"),
        ("gbt-2261-1-sex-to-administrative-gender", "9", "unknown"),
        ("cv06-00-226-to-discharge-disposition", "5", "exp"),
        ("execution-status-to-event-status", "4", "not-done"),
        ("wells-variant-to-assessment-type", "3", "wells-pe"),
        ("vte-event-type-to-snomed", "2", "59282003"),
    ],
)
def test_translation(engine: MappingEngine, map_id: str, code: str, target: str) -> None:
    found = engine.terminology.translate(map_id, code)
    assert found is not None and found.code == target


def test_translation_carries_the_target_system_and_display(engine: MappingEngine) -> None:
    found = engine.terminology.translate("vte-event-type-to-snomed", "1")
    assert found is not None
    assert (found.system, found.display) == ("http://snomed.info/sct", "Deep venous thrombosis")
    assert engine.terminology.translate("vte-event-type-to-snomed", "8") is None


def test_reverse_translation_only_when_unique(engine: MappingEngine) -> None:
    status = engine.terminology.table("execution-status-to-event-status")
    assert status.reverse("stopped") == "3"
    sex = engine.terminology.table("gbt-2261-1-sex-to-administrative-gender")
    assert sex.reverse("male") is None  # 1 and 5 both map there: the code extension decides


def test_mapping_goes_through_the_concept_map(engine: MappingEngine) -> None:
    rt = engine.record_type("prophylaxis")
    record = {
        "recordId": "PX9",
        "caseRecordId": "ZY9",
        "category": "2",
        "deviceCode": "1",
        "orderDateTime": "2026-01-01 08:00:00",
        "startDateTime": "2026-01-01 09:00:00",
        "status": "3",
    }
    plan = engine.plan(rt, record, "12330100470116614F")
    assert plan.main.resource["status"] == "stopped"


def test_a_guide_without_concept_maps_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ig build"):
        Terminology.from_profiles(tmp_path)
