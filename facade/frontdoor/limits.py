"""Intake limits of the FHIR door: JSON depth, extension nesting, element counts and string lengths.

Checked on the parsed body before any other check and before anything is forwarded, in one
iterative pass (no recursion: the input is untrusted), so pathological input never reaches the
structure check, the tenancy rules or HAPI's validator, whose cost grows super-linearly with
extension nesting (measured on HAPI 8.8: 8 nested extensions 0.6 CPU-s, 12 nested 3 CPU-s).

The body itself is parsed by orjson, which refuses JSON nested deeper than 1024 levels without
recursing further ("depth limit exceeded"); ``parse_json`` reports that as this module's
``max-json-depth`` rule. Every other limit is checked here:

* ``max-json-depth``: objects and arrays nested deeper than ``max_json_depth`` (root = 1);
* ``max-extension-nesting``: ``extension`` / ``modifierExtension`` steps on one path (derived from
  the StructureDefinitions, see facade/ig/nesting.py);
* ``max-elements``: JSON values (objects and scalars; arrays are only their items) of one
  resource, a Bundle entry's resource counted on its own, contained resources with their parent
  (the transaction/batch Bundle itself is an envelope: it counts for the request only);
* ``max-request-elements``: the same, for the whole request;
* ``max-string-length``: any string value or member name, in characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from facade.errors import InvalidInput, Issue
from facade.ig.nesting import read_nesting
from facade.settings import Settings

_EXTENSION_KEYS = frozenset({"extension", "modifierExtension"})
# A location reached through (parent, step); rendered only when a limit is broken.
_Link = tuple["_Link | None", str]


@dataclass(frozen=True)
class IntakeLimits:
    """The limits one request must stay within (from Settings; see the module docstring)."""

    max_json_depth: int
    max_extension_nesting: int
    max_elements_per_resource: int
    max_elements_per_request: int
    max_string_length: int

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeLimits:
        """The configured limits; extension nesting defaults to what the guide implies."""
        nesting = settings.fhir_max_extension_nesting
        if nesting is None:
            nesting = read_nesting(settings.profiles_dir).max_nesting
        return cls(
            max_json_depth=settings.fhir_max_json_depth,
            max_extension_nesting=nesting,
            max_elements_per_resource=settings.fhir_max_elements_per_resource,
            max_elements_per_request=settings.fhir_max_elements_per_request,
            max_string_length=settings.fhir_max_string_length,
        )


def _issue(location: str, rule: str, message: str) -> Issue:
    return Issue(location, rule, message, fhir_code="too-costly")


def parse_json(body: bytes) -> Any:
    """Parse a request body; InvalidInput (``json`` or ``max-json-depth``) when it cannot be parsed."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            issue = _issue("body", "max-json-depth", "JSON nested deeper than 1024 levels")
            raise InvalidInput("request body too deeply nested", issues=[issue]) from exc
        raise InvalidInput(
            "body is not JSON", issues=[Issue("body", "json", f"not valid JSON: {exc}")]
        ) from exc


def _render(link: _Link) -> str:
    parts: list[str] = []
    node: _Link | None = link
    while node is not None:
        parts.append(node[1])
        node = node[0]
    text = ""
    for part in reversed(parts):
        text += part if part.startswith("[") or not text else f".{part}"
    return text


class _Resource:
    """Element count of one resource frame (the Bundle envelope counts only for the request)."""

    __slots__ = ("count", "link", "reported")

    def __init__(self, link: _Link, *, envelope: bool = False) -> None:
        self.count = 0
        self.link = link
        self.reported = envelope  # nothing to report for an envelope


def check_limits(body: Any, root: str, limits: IntakeLimits) -> list[Issue]:
    """Every limit ``body`` breaks, located by FHIRPath from ``root`` (``Bundle`` or the type).

    Stops descending where a depth or nesting limit is broken, reports each element-count limit
    once per resource, and stops altogether once the request's element budget is spent.
    """
    check = _Walk(root, limits)
    check.run(body)
    return check.issues


class _Walk:
    """One iterative pass over a parsed body (a stack instead of recursion)."""

    def __init__(self, root: str, limits: IntakeLimits) -> None:
        self.root = root
        self.limits = limits
        self.issues: list[Issue] = []
        # (value, location, depth of the value, extension nesting, resource frame it counts toward)
        self.stack: list[tuple[Any, _Link, int, int, _Resource]] = []

    def run(self, body: Any) -> None:
        top: _Link = (None, self.root)
        envelope = self.root == "Bundle"  # a transaction/batch: its entries are the resources
        self.stack.append((body, top, 1, 0, _Resource(top, envelope=envelope)))
        total = 0
        longest = self.limits.max_string_length
        while self.stack:
            value, link, depth, nesting, frame = self.stack.pop()
            if isinstance(value, list):  # an array is not an element; its items are
                for index in range(len(value) - 1, -1, -1):  # reversed: issues in document order
                    self._push(value[index], (link, f"[{index}]"), depth + 1, nesting, frame)
                continue
            total += 1
            frame.count += 1
            if total > self.limits.max_elements_per_request:
                limit = self.limits.max_elements_per_request
                self._add(
                    self.root, "max-request-elements", f"the request has more than {limit} elements"
                )
                return
            if frame.count > self.limits.max_elements_per_resource and not frame.reported:
                frame.reported = True
                limit = self.limits.max_elements_per_resource
                self._add(frame.link, "max-elements", f"a resource has more than {limit} elements")
            if isinstance(value, str):
                if len(value) > longest:
                    self._add(
                        link, "max-string-length", f"a string is longer than {longest} characters"
                    )
            elif isinstance(value, dict):
                for key, child in reversed(value.items()):
                    if len(key) > longest:
                        self._add(
                            link,
                            "max-string-length",
                            f"a member name is longer than {longest} characters",
                        )
                        continue
                    child_link: _Link = (link, key)
                    self._push(
                        child,
                        child_link,
                        depth + 1,
                        nesting + 1 if key in _EXTENSION_KEYS else nesting,
                        _Resource(child_link) if key == "resource" else frame,
                    )

    def _push(self, value: Any, link: _Link, depth: int, nesting: int, frame: _Resource) -> None:
        if isinstance(value, dict | list):
            if depth > self.limits.max_json_depth:
                limit = self.limits.max_json_depth
                self._add(link, "max-json-depth", f"JSON nests deeper than {limit} levels")
                return
            if nesting > self.limits.max_extension_nesting:
                limit = self.limits.max_extension_nesting
                self._add(
                    link, "max-extension-nesting", f"extensions nest deeper than {limit} levels"
                )
                return
        self.stack.append((value, link, depth, nesting, frame))

    def _add(self, where: _Link | str, rule: str, message: str) -> None:
        location = where if isinstance(where, str) else _render(where)
        self.issues.append(_issue(location, rule, f"{message}, the most this server accepts"))


def entry_of(location: str) -> int | None:
    """The Bundle entry index a location lies in (``Bundle.entry[3]...`` -> 3), else None."""
    prefix = "Bundle.entry["
    if not location.startswith(prefix):
        return None
    index, bracket, _ = location[len(prefix) :].partition("]")
    return int(index) if bracket and index.isdigit() else None
