"""Search parameters by role and signed page links (no server needed)."""

from __future__ import annotations

import pytest

from facade.errors import Forbidden, InvalidInput
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, REPORTING_ORG_TAG
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.search import continuation_params, facade_page_link, prepare_search
from facade.privacy.pseudonym import regional_pseudonym
from facade.security.roles import Role
from facade.security.scopes import ScopeSet
from facade.security.tokens import Principal
from facade.settings import Settings, ensure_secrets

ORG = "12330100470116614F"


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
