"""SMART ``system/`` scopes (v1 ``.read/.write/.*`` and v2 ``.cruds``): parse, check and narrow."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from facade.security.roles import RolePolicy

_SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]{1,63})\.(?P<perms>[a-z*]+)$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_ORDER = "cruds"


class ScopeError(ValueError):
    """A scope string the facade does not understand or will not grant."""


@dataclass(frozen=True, order=True)
class Scope:
    """One ``system/<type>.<perms>`` scope, normalised to v2 permission letters."""

    resource_type: str  # a FHIR type or "*"
    perms: str  # ordered subset of "cruds"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse one scope; raises ScopeError naming what is wrong."""
        if "?" in text:
            raise ScopeError(f"granular scopes with search parameters are not supported: {text!r}")
        match = _SCOPE.match(text)
        if not match:
            raise ScopeError(f"not a SMART system scope (system/<Type>.<permissions>): {text!r}")
        raw = match["perms"]
        if raw in _V1:
            perms = _V1[raw]
        elif set(raw) <= set(_ORDER) and raw == "".join(p for p in _ORDER if p in raw):
            perms = raw
        else:
            raise ScopeError(
                f"permissions must be read, write, * or an ordered subset of cruds: {text!r}"
            )
        return cls(match["type"], perms)

    def __str__(self) -> str:
        return f"system/{self.resource_type}.{self.perms}"

    def allows(self, resource_type: str, perm: str) -> bool:
        """Whether this scope grants ``perm`` (one of c r u d s) on ``resource_type``."""
        return self.resource_type in ("*", resource_type) and perm in self.perms


@dataclass(frozen=True)
class ScopeSet:
    """The scopes a token carries."""

    scopes: tuple[Scope, ...]

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> ScopeSet:
        """Parse a space-separated scope string (or a list of scope strings)."""
        items = text.split() if isinstance(text, str) else list(text)
        return cls(tuple(sorted({Scope.parse(item) for item in items})))

    def __str__(self) -> str:
        return " ".join(str(s) for s in self.scopes)

    def allows(self, resource_type: str, perm: str) -> bool:
        """Whether any scope grants ``perm`` on ``resource_type``."""
        return any(scope.allows(resource_type, perm) for scope in self.scopes)

    def within(self, role_policy: RolePolicy) -> list[str]:
        """Problems that make these scopes exceed the role's ceiling (empty when they fit)."""
        problems = []
        for scope in self.scopes:
            ceiling = _ceiling(scope.resource_type, role_policy)
            extra = "".join(p for p in scope.perms if p not in ceiling)
            if extra:
                problems.append(f"{scope} asks for '{extra}' which the role may not have")
        return problems

    def capped(self, role_policy: RolePolicy) -> ScopeSet:
        """These scopes cut down to the role's ceiling; a scope with nothing left is dropped.

        A client registered with ``system/*.rs`` that asks for ``system/AuditEvent.rs`` must not
        be granted it when its role may not read audit events.
        """
        kept: set[Scope] = set()
        for scope in self.scopes:
            ceiling = _ceiling(scope.resource_type, role_policy)
            perms = "".join(p for p in scope.perms if p in ceiling)
            if perms:
                kept.add(Scope(scope.resource_type, perms))
        return ScopeSet(tuple(sorted(kept)))

    def narrow(self, requested: ScopeSet) -> ScopeSet:
        """The part of ``requested`` these (registered) scopes cover, per requested scope.

        A requested scope is granted with the permissions some registered scope of the same
        type (or ``*``) also holds; a requested wildcard is granted only against a wildcard.
        """
        granted: set[Scope] = set()
        for want in requested.scopes:
            held = "".join(
                p
                for p in want.perms
                if any(
                    have.resource_type in ("*", want.resource_type) and p in have.perms
                    for have in self.scopes
                )
            )
            if held:
                granted.add(Scope(want.resource_type, held))
        return ScopeSet(tuple(sorted(granted)))


def _ceiling(resource_type: str, role_policy: RolePolicy) -> set[str]:
    """The permission letters a role may hold on a type (on ``*``: on any of its types)."""
    if resource_type == "*":
        types = role_policy.read | role_policy.write | role_policy.submits
        return set("".join(role_policy.permissions(t) for t in types))
    return set(role_policy.permissions(resource_type))
