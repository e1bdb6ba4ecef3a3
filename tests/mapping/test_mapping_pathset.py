"""Path get/set knows FHIR's shapes; native values convert to FHIR and back."""

from __future__ import annotations

from datetime import UTC

import pytest

from facade.dictionary.models import Field
from facade.mapping import pathset, values
from facade.mapping.pathset import MappingError


def same(text: str) -> str:
    return text


def test_a_selector_on_a_repeating_element_picks_or_adds_a_repetition() -> None:
    resource: dict[str, object] = {}
    steps = pathset.steps_of("identifier[system=urn:a].value")
    pathset.put(resource, "Encounter", steps, "1", same)
    pathset.put(
        resource, "Encounter", pathset.steps_of("identifier[system=urn:b].value"), "2", same
    )
    assert resource == {
        "identifier": [{"system": "urn:a", "value": "1"}, {"system": "urn:b", "value": "2"}]
    }
    assert pathset.get(resource, "Encounter", steps, same) == "1"


def test_a_selector_on_a_single_element_constrains_it() -> None:
    resource: dict[str, object] = {}
    pathset.put(
        resource,
        "RiskAssessment",
        pathset.steps_of("performer.identifier[system=urn:s].value"),
        "N1",
        same,
    )
    assert resource == {"performer": {"identifier": {"system": "urn:s", "value": "N1"}}}
    assert (
        pathset.get(
            resource,
            "RiskAssessment",
            pathset.steps_of("performer.identifier[system=urn:x].value"),
            same,
        )
        is None
    )


def test_group_items_append_distinct_repetitions() -> None:
    resource: dict[str, object] = {}
    steps = pathset.steps_of("extension[url=urn:icu]")
    first, kind = pathset.append(resource, "Encounter", steps, same)
    second, _ = pathset.append(resource, "Encounter", steps, same)
    assert kind == "Extension" and first is not second
    items, _ = pathset.get_all(resource, "Encounter", steps, same)
    assert len(items) == 2


def test_conflicting_values_and_unknown_elements_are_engine_errors() -> None:
    resource: dict[str, object] = {}
    pathset.put(resource, "Encounter", pathset.steps_of("status"), "finished", same)
    with pytest.raises(MappingError, match="two values"):
        pathset.put(resource, "Encounter", pathset.steps_of("status"), "planned", same)
    with pytest.raises(MappingError, match="no element"):
        pathset.put(resource, "Encounter", pathset.steps_of("nonsense"), 1, same)
    with pytest.raises(MappingError, match="gap"):
        pathset.put(resource, "Encounter", pathset.steps_of("type[2].text"), "x", same)


def test_date_times_gain_the_offset_and_come_back_in_local_time() -> None:
    zone = values.parse_offset("+08:00")
    assert values.to_fhir("datetime", "2026-01-05 09:30:00", zone) == "2026-01-05T09:30:00+08:00"
    assert values.from_fhir("datetime", "2026-01-05T01:30:00Z", zone) == "2026-01-05 09:30:00"
    assert values.from_fhir("datetime", "2026-01-05T09:30:00+08:00", UTC) == "2026-01-05 01:30:00"
    with pytest.raises(ValueError, match="offset"):
        values.parse_offset("8h")


def test_decimals_are_normalised() -> None:
    field = Field.model_validate(
        {
            "name": "score",
            "zh": "分",
            "en": "s",
            "definition": "d",
            "type": "decimal",
            "format": "N..4,1",
            "required": True,
            "source": ["VTE"],
            "forwarded": False,
        }
    )
    assert values.normalise(field, "8.0") == 8 and isinstance(values.normalise(field, "8.0"), int)
    assert values.normalise(field, 4.5) == 4.5
    with pytest.raises(values.BadValue):
        values.normalise(field, True)
