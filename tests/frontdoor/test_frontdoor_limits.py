"""Intake limits without HAPI: each rule and its location, iterative checks, sane defaults, HAPI's looser net."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from frontdoor_stay import stay_bundle

from facade.errors import InvalidInput
from facade.frontdoor.intake import walk_dicts, walk_strings
from facade.frontdoor.limits import IntakeLimits, check_limits, entry_of, parse_json
from facade.ig.loader import example_resources
from facade.ig.nesting import read_nesting
from facade.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LIMITS = IntakeLimits(
    max_json_depth=32,
    max_extension_nesting=4,
    max_elements_per_resource=500,
    max_elements_per_request=2_000,
    max_string_length=100,
)


def nested_extension(depth: int) -> dict[str, Any]:
    """An extension nesting ``depth`` deep (the innermost one carries a value)."""
    ext: dict[str, Any] = {"url": "http://example.org/leaf", "valueString": "x"}
    for _ in range(depth - 1):
        ext = {"url": "http://example.org/node", "extension": [ext]}
    return ext


def json_depth(node: Any) -> int:
    """Objects and arrays nested in ``node`` (iteratively)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend(
                (v, depth + 1) for v in (value.values() if isinstance(value, dict) else value)
            )
    return deepest


def elements(node: Any) -> int:
    """JSON values that are not arrays (the limit's unit)."""
    count, stack = 0, [node]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
    return count


def _rules(issues: list[Any]) -> list[tuple[str, str]]:
    return [(i.rule, i.location) for i in issues]


def test_extension_nesting_up_to_the_limit_passes_one_more_is_refused_where_it_starts() -> None:
    patient = {"resourceType": "Patient", "extension": [{"url": "a"}, nested_extension(4)]}
    assert check_limits(patient, "Patient", LIMITS) == []
    patient["extension"][1] = nested_extension(5)
    issues = check_limits(patient, "Patient", LIMITS)
    assert _rules(issues) == [
        (
            "max-extension-nesting",
            "Patient.extension[1].extension[0].extension[0].extension[0].extension",
        )
    ]
    assert issues[0].fhir_code == "too-costly"
    assert "4" in issues[0].message


def test_extensions_on_primitives_and_modifier_extensions_count_too() -> None:
    inner = {"url": "u", "modifierExtension": [{"url": "v", "extension": [nested_extension(3)]}]}
    patient = {"resourceType": "Patient", "_birthDate": {"extension": [inner]}}
    assert _rules(check_limits(patient, "Patient", LIMITS)) == [
        (
            "max-extension-nesting",
            "Patient._birthDate.extension[0].modifierExtension[0].extension[0].extension[0].extension",
        )
    ]


def test_json_depth_counts_objects_and_arrays() -> None:
    deep: list[Any] = []
    cursor = deep
    for _ in range(40):
        cursor.append([])
        cursor = cursor[0]
    issues = check_limits({"resourceType": "Basic", "x": deep}, "Basic", LIMITS)
    assert _rules(issues) == [("max-json-depth", "Basic.x" + "[0]" * 31)]


def test_elements_are_counted_per_resource_and_per_request() -> None:
    big = {"resourceType": "Patient", "identifier": [{"value": str(i)} for i in range(300)]}
    assert elements(big) == 602  # the Patient, its type, 300 identifiers and values
    small = {"resourceType": "Patient", "gender": "male"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": small}, {"resource": big}]}
    assert _rules(check_limits(bundle, "Bundle", LIMITS)) == [
        ("max-elements", "Bundle.entry[1].resource")
    ]
    # the transaction/batch envelope is not a resource of its own: 400 entries pass...
    many = {"resourceType": "Bundle", "entry": [{"resource": small} for _ in range(400)]}
    assert check_limits(many, "Bundle", LIMITS) == []
    # ...until the request's own budget is spent
    many["entry"] += [{"resource": small} for _ in range(200)]
    assert _rules(check_limits(many, "Bundle", LIMITS)) == [("max-request-elements", "Bundle")]


def test_contained_resources_count_with_their_parent() -> None:
    contained = [{"resourceType": "Organization", "name": str(i)} for i in range(200)]
    patient = {"resourceType": "Patient", "contained": contained}
    assert _rules(check_limits(patient, "Patient", LIMITS)) == [("max-elements", "Patient")]


def test_long_strings_and_member_names_are_refused() -> None:
    patient = {"resourceType": "Patient", "name": [{"given": ["ok", "x" * 101]}], "y" * 101: 1}
    assert _rules(check_limits(patient, "Patient", LIMITS)) == [
        ("max-string-length", "Patient"),  # a member name: located at its object
        ("max-string-length", "Patient.name[0].given[1]"),
    ]


def test_issues_map_to_bundle_entries() -> None:
    assert entry_of("Bundle.entry[12].resource.extension[0]") == 12
    assert entry_of("Bundle.entry[3]") == 3
    assert entry_of("Bundle") is None
    assert entry_of("Bundle.meta.tag[0]") is None
    assert entry_of("Patient.extension") is None


def test_nothing_recurses_on_input_as_deep_as_json_allows() -> None:
    text = b'{"resourceType":"Patient","x":' + b"[" * 1020 + b"]" * 1020 + b"}"
    body = parse_json(text)  # orjson's own limit is 1024 levels
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a recursive walker would fail long before 1020 levels
    try:
        issues = check_limits(body, "Patient", LIMITS)
        strings = list(walk_strings(body, ""))
        objects = list(walk_dicts(body, ""))
    finally:
        sys.setrecursionlimit(old_limit)
    assert _rules(issues)[0][0] == "max-json-depth"
    assert strings == [("resourceType", "resourceType", "Patient")]
    assert objects == []


def test_json_deeper_than_the_parser_allows_is_a_depth_refusal_not_a_syntax_error() -> None:
    with pytest.raises(InvalidInput) as deep:
        parse_json(b"[" * 1025 + b"]" * 1025)
    assert [(i.rule, i.location) for i in deep.value.issues] == [("max-json-depth", "body")]
    with pytest.raises(InvalidInput) as broken:
        parse_json(b'{"resourceType": ')
    assert [i.rule for i in broken.value.issues] == ["json"]


def test_limits_come_from_settings_and_the_derived_nesting(tmp_path: Path) -> None:
    derived = read_nesting(REPO / "profiles").max_nesting
    limits = IntakeLimits.from_settings(Settings(environment="test", var_dir=tmp_path))
    assert limits.max_extension_nesting == derived
    override = Settings(environment="test", var_dir=tmp_path, fhir_max_extension_nesting=2)
    assert IntakeLimits.from_settings(override).max_extension_nesting == 2


def test_default_limits_leave_room_for_everything_our_profiles_produce(tmp_path: Path) -> None:
    settings = Settings(environment="test", var_dir=tmp_path)
    limits = IntakeLimits.from_settings(settings)
    examples = example_resources(REPO / "profiles" / "fsh-generated" / "resources")
    bundle = stay_bundle("12330100470116614F", "11010519491231002X")
    assert check_limits(bundle, "Bundle", limits) == []
    # the deepest example inside a Bundle, with the deepest extensions allowed on top of it
    deepest = max(json_depth(r) for r in examples) + 3 + 2 * limits.max_extension_nesting
    assert deepest <= limits.max_json_depth
    assert 10 * max(elements(r) for r in examples) <= limits.max_elements_per_resource
    dictionary_longest = max(int(m) for m in re.findall(r"max_length: (\d+)", _dictionary_text()))
    assert 100 * dictionary_longest <= limits.max_string_length


def _dictionary_text() -> str:
    return "".join(p.read_text() for p in (REPO / "mappings" / "dictionary").glob("*.yaml"))


HAPI_LIMITS = (
    "max-json-depth",
    "max-extension-nesting",
    "max-elements-per-resource",
    "max-elements-per-request",
    "max-string-length",
)


def _hapi_defaults() -> dict[str, int]:
    """The defaults of HAPI's body limits in its application.yaml (``${HAPI_MAX_X:default}``)."""
    config = yaml.safe_load((REPO / "docker/hapi/src/main/resources/application.yaml").read_text())
    found: dict[str, int] = {}
    for key in HAPI_LIMITS:
        match = re.fullmatch(r"\$\{HAPI_MAX_[A-Z_]+:(\d+)\}", str(config["vte"]["hapi"][key]))
        assert match, key
        found[key] = int(match.group(1))
    return found


def test_hapi_limits_are_a_looser_net_than_the_facades(tmp_path: Path) -> None:
    settings = Settings(environment="test", var_dir=tmp_path)
    limits = IntakeLimits.from_settings(settings)
    hapi = _hapi_defaults()
    # the facade adds a tag, a profile and a pseudonym's type to each resource it forwards
    added = 10
    assert hapi["max-json-depth"] >= limits.max_json_depth + 2
    assert hapi["max-extension-nesting"] > limits.max_extension_nesting
    assert hapi["max-elements-per-resource"] >= limits.max_elements_per_resource + added
    per_request = limits.max_elements_per_request + added * settings.fhir_max_bundle_entries
    assert hapi["max-elements-per-request"] >= per_request
    assert hapi["max-string-length"] >= limits.max_string_length


def test_refusals_render_as_operation_outcome_issues() -> None:
    from facade.fhir.outcome import outcome

    issues = check_limits({"resourceType": "Patient", "gender": "x" * 101}, "Patient", LIMITS)
    body = orjson.loads(orjson.dumps(outcome("refused", issues=issues)))
    assert body["issue"] == [
        {
            "severity": "error",
            "code": "too-costly",
            "details": {"text": issues[0].message},
            "diagnostics": "rule: max-string-length",
            "expression": ["Patient.gender"],
        }
    ]
