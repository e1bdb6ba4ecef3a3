"""The target path syntax: parsing, selectors and token resolution."""

from __future__ import annotations

import pytest

from facade.dictionary.paths import PathError, Step, is_institution_specific, parse, resolve
from facade.fhir import naming


def test_parse_steps_with_index_and_key_selectors() -> None:
    steps = parse(
        "extension[url=${canonical}/StructureDefinition/icu-stay].extension[url=period].valuePeriod.start"
    )
    assert steps[0] == Step(
        "extension", key="url", value="${canonical}/StructureDefinition/icu-stay"
    )
    assert steps[1] == Step("extension", key="url", value="period")
    assert [s.name for s in steps[2:]] == ["valuePeriod", "start"]
    assert parse("prediction[0].qualitativeRisk.coding[1].code")[0] == Step("prediction", index=0)


def test_selector_values_may_contain_dots_and_slashes() -> None:
    steps = parse("code.coding[system=urn:oid:2.16.156.10011.2.3.3.11].code")
    assert steps[1].value == "urn:oid:2.16.156.10011.2.3.3.11"
    assert str(steps[1]) == "coding[system=urn:oid:2.16.156.10011.2.3.3.11]"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "expected an element name at position 0"),
        ("gender.", "expected an element name at position 7"),
        ("coding[lang=en].code", "must be an index or key=value"),
        ("coding[system=].code", "must be an index or key=value"),
        ("identifier[system=${nope}].value", "unknown token ${nope}"),
        ("identifier[system=${org:x}].value", "takes no argument"),
        ("gender-x", "expected '.' at position 6"),
    ],
)
def test_malformed_paths_name_the_problem(path: str, fragment: str) -> None:
    with pytest.raises(PathError, match=None) as caught:
        parse(path)
    assert fragment in str(caught.value)


def test_tokens_resolve_to_naming_constants() -> None:
    org = "12330100470116614F"
    assert resolve(
        "${record}", record_type="vte-risk", org_code=org
    ) == naming.record_identifier_system(org, "vte-risk")
    assert resolve(
        "${record:case}", record_type="vte-risk", org_code=org
    ) == naming.record_identifier_system(org, "case")
    assert resolve("${pseudonym}", record_type="case") == naming.REGIONAL_PSEUDONYM_SYSTEM
    assert resolve("${org}", record_type="case") == naming.ORG_CODE_SYSTEM
    assert resolve("${canonical}/x", record_type="case") == f"{naming.CANONICAL}/x"
    assert resolve("${dept}", record_type="case", org_code=org) == naming.department_code_system(
        org
    )


def test_institution_tokens_need_the_institution_code() -> None:
    assert is_institution_specific("${record:case}") and not is_institution_specific("${pseudonym}")
    with pytest.raises(PathError, match="needs the institution code"):
        resolve("${record}", record_type="case")
