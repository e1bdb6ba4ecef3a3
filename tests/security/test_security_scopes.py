"""SMART system scopes: v1 and v2 syntax, checks, narrowing and role ceilings."""

from __future__ import annotations

import pytest

from facade.security.roles import Role, policy
from facade.security.scopes import Scope, ScopeError, ScopeSet


@pytest.mark.parametrize(
    ("text", "rtype", "perms"),
    [
        ("system/Patient.read", "Patient", "rs"),
        ("system/Patient.write", "Patient", "cud"),
        ("system/*.*", "*", "cruds"),
        ("system/Observation.rs", "Observation", "rs"),
        ("system/*.cruds", "*", "cruds"),
        ("system/Encounter.cu", "Encounter", "cu"),
    ],
)
def test_parse_v1_and_v2(text: str, rtype: str, perms: str) -> None:
    scope = Scope.parse(text)
    assert (scope.resource_type, scope.perms) == (rtype, perms)


@pytest.mark.parametrize(
    "text",
    [
        "patient/Patient.read",
        "user/*.rs",
        "system/Patient.sr",
        "system/Patient.x",
        "openid",
        "system/Observation.rs?category=laboratory",
        "system/patient.rs",
    ],
)
def test_unsupported_scopes_are_refused(text: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse(text)


def test_allows_checks_type_and_permission() -> None:
    scopes = ScopeSet.parse("system/Patient.rs system/*.c")
    assert scopes.allows("Patient", "r")
    assert scopes.allows("Encounter", "c")
    assert not scopes.allows("Encounter", "r")
    assert not scopes.allows("Patient", "u")


def test_narrow_keeps_only_what_is_registered() -> None:
    registered = ScopeSet.parse("system/Patient.rs system/Encounter.crus")
    granted = registered.narrow(
        ScopeSet.parse("system/Patient.cruds system/Encounter.r system/Observation.rs")
    )
    assert str(granted) == "system/Encounter.r system/Patient.rs"
    assert not ScopeSet.parse("system/AuditEvent.rs").narrow(ScopeSet.parse("system/*.rs")).scopes


def test_role_ceiling() -> None:
    assert ScopeSet.parse("system/*.rs").within(policy(Role.RESEARCHER)) == []
    assert ScopeSet.parse("system/*.crus").within(policy(Role.HOSPITAL)) == []
    assert ScopeSet.parse("system/Patient.c").within(policy(Role.RESEARCHER))
    assert ScopeSet.parse("system/Patient.rs").within(policy(Role.AUDITOR))
    assert ScopeSet.parse("system/*.d").within(policy(Role.HOSPITAL))


def test_capped_cuts_every_scope_down_to_the_role() -> None:
    asked = ScopeSet.parse("system/AuditEvent.rs system/Patient.cruds system/*.cruds")
    assert str(asked.capped(policy(Role.HOSPITAL))) == "system/*.crus system/Patient.crus"
    assert str(asked.capped(policy(Role.RESEARCHER))) == "system/*.rs system/Patient.rs"
    assert str(asked.capped(policy(Role.AUDITOR))) == "system/*.rs system/AuditEvent.rs"
    assert not ScopeSet.parse("system/AuditEvent.rs").capped(policy(Role.HOSPITAL)).scopes
