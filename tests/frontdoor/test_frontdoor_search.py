"""Search parameters by role and signed page links (no server needed)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from facade.errors import Forbidden, InvalidInput
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, REPORTING_ORG_TAG
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.search import (
    RESEARCH_HIDDEN_ON,
    RESEARCH_INCLUDES,
    RESEARCH_PARAMS,
    continuation_params,
    facade_page_link,
    prepare_search,
)
from facade.ig.build import ensure_core_package
from facade.privacy.elements import Catalogue
from facade.privacy.pseudonym import regional_pseudonym
from facade.privacy.viewdata import Transform, load_view_data
from facade.security.roles import POLICIES, Role, View
from facade.security.scopes import ScopeSet
from facade.security.tokens import Principal
from facade.settings import Settings, ensure_secrets

ORG = "12330100470116614F"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def door(settings: Settings) -> FrontDoor:
    return FrontDoor(ensure_secrets(settings))


def who(role: Role, client_id: str = "c1") -> Principal:
    return Principal(
        client_id,
        "t",
        role,
        ORG if role is Role.HOSPITAL else None,
        ScopeSet.parse("system/*.rs"),
        "j",
    )


def test_hospital_searches_are_confined_and_identity_numbers_translated(door: FrontDoor) -> None:
    params = prepare_search(
        who(Role.HOSPITAL),
        "Patient",
        [("identifier", "urn:oid:2.16.156.10011.1.3|11010519491231002X"), ("_format", "xml")],
        door,
    )
    pseudo = regional_pseudonym("01", "11010519491231002X", door.pseudonym_key)
    assert params == [
        ("identifier", f"{REGIONAL_PSEUDONYM_SYSTEM}|{pseudo}"),
        ("_tag", f"{REPORTING_ORG_TAG}|{ORG}"),
    ]
    assert prepare_search(who(Role.HOSPITAL), "Organization", [], door) == []
    assert prepare_search(who(Role.QC), "Patient", [("gender", "female")], door) == [
        ("gender", "female")
    ]
    with pytest.raises(InvalidInput):
        prepare_search(who(Role.QC), "Patient", [("_content", "11010519491231002X")], door)
    with pytest.raises(InvalidInput):
        prepare_search(who(Role.QC), "Patient", [("_getpages", "abc")], door)


def test_research_allow_list_and_ids(door: FrontDoor) -> None:
    researcher = who(Role.RESEARCHER)
    rid = door.research_ids.encode("Patient", "p-123")
    params = prepare_search(
        researcher,
        "Observation",
        [("subject", f"Patient/{rid}"), ("patient", rid), ("code", "x|y"), ("_elements", "code")],
        door,
    )
    assert params == [
        ("subject", "Patient/p-123"),
        ("patient", "p-123"),
        ("code", "x|y"),
        ("_elements", "code,subject,patient,identifier"),
    ]
    assert prepare_search(researcher, "Patient", [("_id", rid)], door) == [("_id", "p-123")]
    for name, value in [
        ("date", "ge2024"),
        ("birthdate", "1950"),
        ("_lastUpdated", "gt2020"),
        ("_sort", "date"),
        ("subject.birthdate", "1950"),
        ("identifier", "x|y"),
        ("_has:Observation:subject:code", "x"),
        ("code:below", "x"),
    ]:
        with pytest.raises(Forbidden):
            prepare_search(researcher, "Observation", [(name, value)], door)
    with pytest.raises(InvalidInput):
        prepare_search(
            researcher, "Observation", [("subject", "Patient/p-123")], door
        )  # a stored id
    with pytest.raises(InvalidInput):
        prepare_search(researcher, "Observation", [("_summary", "text")], door)


def test_page_links_are_bound_to_the_client(door: FrontDoor) -> None:
    upstream = "http://127.0.0.1:8095/fhir?_getpages=abc&_getpagesoffset=20&_count=20&_pretty=true&_bundletype=searchset"
    link = facade_page_link(door, who(Role.QC), upstream)
    assert link is not None and link.startswith(f"{door.fhir_base}?_getpages=abc&")
    assert "_pretty" not in link
    params = [tuple(p.split("=", 1)) for p in link.split("?", 1)[1].split("&")]
    assert continuation_params(door, who(Role.QC), params) == [  # type: ignore[arg-type]
        ("_getpages", "abc"),
        ("_getpagesoffset", "20"),
        ("_count", "20"),
        ("_bundletype", "searchset"),
    ]
    with pytest.raises(Forbidden):
        continuation_params(door, who(Role.QC, "someone-else"), params)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        continuation_params(door, who(Role.QC), [("_getpages", "abc")])
    assert facade_page_link(door, who(Role.QC), "http://127.0.0.1:8095/fhir/Patient?x=1") is None


def test_research_searches_only_what_the_research_view_shows(door: FrontDoor) -> None:
    researcher = who(Role.RESEARCHER)
    tag = f"{REPORTING_ORG_TAG}|{ORG}"
    assert prepare_search(researcher, "Encounter", [("_tag", tag)], door) == [("_tag", tag)]
    ok = [("_include", "Encounter:subject"), ("_revinclude", "Condition:encounter:Encounter")]
    assert prepare_search(researcher, "Encounter", ok, door) == ok
    for rtype, name, value in [
        ("Encounter", "_tag", "urn:hospital-tags|vip"),  # tags other than the hospital's are hidden
        ("Encounter", "_tag", f"{tag},urn:x|y"),
        ("Encounter", "_include", "*"),
        ("Encounter", "_include", "Encounter:participant"),  # staff are not shown
        ("Patient", "_revinclude", "Condition:asserter"),
        ("MeasureReport", "subject", "Patient/x"),  # a summary report's subject is dropped
    ]:
        with pytest.raises(Forbidden):
            prepare_search(researcher, rtype, [(name, value)], door)


@cache
def _search_parameters(core: Path) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((core / "package").glob("SearchParameter-*.json"))
    ]


def _core_targets(core: Path, code: str, rtype: str) -> list[str]:
    """Element paths a core SearchParameter of ``rtype`` tests (FHIRPath reduced to paths)."""
    paths = []
    for sp in _search_parameters(core):
        if sp.get("code") != code or rtype not in sp.get("base", []):
            continue
        for part in sp.get("expression", "").split("|"):
            part = re.sub(r"\.where\(.*\)$", "", part.strip())
            cast = re.match(r"^\((\w+)\.(\w+) as (\w+)\)$", part)
            if cast:
                part = f"{cast[1]}.{cast[2]}{cast[3]}"
            if part.startswith(f"{rtype}."):
                paths.append(part[len(rtype) + 1 :])
    return paths


def _shown(elements: dict[str, Any], path: str) -> bool:
    steps = path.split(".")
    for i in range(len(steps)):
        key = ".".join(steps[: i + 1])
        rules = [
            r
            for k, r in elements.items()
            if k == key or re.fullmatch(rf"{re.escape(key)}[A-Z]\w*", k)
        ]
        if not rules or all(r.of(View.DEIDENTIFIED) is Transform.DROP for r in rules):
            return False
    return True


def _storable(catalogue: Catalogue, rtype: str, path: str) -> bool:
    """Whether some profile of the type allows the element (else no stored data holds it)."""
    for element in catalogue.types[rtype].elements:
        for name, type_code in element.json_names():
            parent = element.path.rpartition(".")[0]
            if (f"{parent}.{name}" if parent else name) == path:
                profiles = catalogue.profiles_of(rtype)
                return not profiles or any(
                    p.allows(element.path)
                    and type_code in p.choices.get(element.path, (type_code,))
                    for p in profiles
                )
    return True


def test_every_research_parameter_tests_an_element_the_view_shows(door: FrontDoor) -> None:
    data = load_view_data(REPO / "mappings" / "views")
    catalogue = Catalogue.load(REPO / "profiles")
    core = ensure_core_package()
    readable = POLICIES[Role.RESEARCHER].read
    checked = 0
    wanted = {n for n, k in RESEARCH_PARAMS.items() if k in ("token", "quantity", "reference")}
    for name in sorted((wanted - {"_tag"}) | RESEARCH_INCLUDES):
        for rtype in sorted(readable):
            if rtype in RESEARCH_HIDDEN_ON.get(name, ()):
                continue
            for path in _core_targets(core, name, rtype):
                if not _storable(catalogue, rtype, path):
                    continue
                shown = _shown(data.resources[rtype].elements, path)
                assert shown, f"research may search {rtype}?{name}= but its view hides {path}"
                checked += 1
    assert checked > 25
    hidden = [
        (name, rtype)
        for name, types in RESEARCH_HIDDEN_ON.items()
        for rtype in types
        for path in _core_targets(core, name, rtype)
        if _shown(data.resources[rtype].elements, path)
    ]
    assert not hidden  # refusals only where the view really hides the element
