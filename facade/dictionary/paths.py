"""The small element-path syntax of dictionary FHIR targets: parse it and resolve its ``${...}`` tokens.

    path     = step *("." step)
    step     = name [ "[" ( index / key "=" value ) "]" ]
    name     = FHIR element name, choice types spelled out (valueBoolean, performedPeriod)
    index    = 1*DIGIT                       ; a fixed repetition: coding[0]
    key      = "url" / "system" / "code"     ; select the repetition whose key equals value
    value    = any text without "]"; may hold tokens

Tokens: ``${canonical}`` (IG base), ``${pseudonym}`` (regional patient pseudonym system),
``${org}`` (institution-code system), ``${record}`` / ``${record:<type>}`` (record-id system of this
or another record type, per institution), ``${dept}`` (the institution's department code system).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from facade.fhir import naming

_STEP = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9]*)(?:\[(?P<sel>[^\]]*)\])?")
_TOKEN = re.compile(r"\$\{(?P<name>[a-z]+)(?::(?P<arg>[a-z0-9-]+))?\}")
SELECTOR_KEYS = ("url", "system", "code")
TOKENS = ("canonical", "pseudonym", "org", "record", "dept")


class PathError(ValueError):
    """A target path does not follow the syntax; the message says where."""


@dataclass(frozen=True)
class Step:
    """One element of a path with its optional repetition selector."""

    name: str
    index: int | None = None
    key: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.index is not None:
            return f"{self.name}[{self.index}]"
        if self.key is not None:
            return f"{self.name}[{self.key}={self.value}]"
        return self.name


def parse(path: str) -> list[Step]:
    """Split a path into steps; raise PathError naming the offending position."""
    steps: list[Step] = []
    position = 0
    while True:
        match = _STEP.match(path, position)
        if not match:
            raise PathError(f"path {path!r}: expected an element name at position {position}")
        steps.append(_step(path, match.group("name"), match.group("sel")))
        position = match.end()
        if position == len(path):
            return steps
        if path[position] != ".":
            raise PathError(f"path {path!r}: expected '.' at position {position}")
        position += 1


def _step(path: str, name: str, selector: str | None) -> Step:
    if selector is None:
        return Step(name)
    if selector.isdigit():
        return Step(name, index=int(selector))
    key, sep, value = selector.partition("=")
    if not sep or key not in SELECTOR_KEYS or not value:
        raise PathError(
            f"path {path!r}: selector [{selector}] must be an index or key=value with key in {SELECTOR_KEYS}"
        )
    check_tokens(value)
    return Step(name, key=key, value=value)


def check_tokens(text: str) -> None:
    """Raise PathError if ``text`` uses an unknown token."""
    for match in _TOKEN.finditer(text):
        if match.group("name") not in TOKENS:
            raise PathError(f"unknown token ${{{match.group('name')}}} in {text!r}")
        if match.group("arg") and match.group("name") != "record":
            raise PathError(f"token ${{{match.group('name')}}} takes no argument in {text!r}")
    if "${" in _TOKEN.sub("", text):
        raise PathError(f"malformed token in {text!r}")


def resolve(text: str, *, record_type: str, org_code: str | None = None) -> str:
    """Replace tokens in ``text``; tokens that depend on the institution need ``org_code``."""

    def replace(match: re.Match[str]) -> str:
        name, arg = match.group("name"), match.group("arg")
        if name == "canonical":
            return naming.CANONICAL
        if name == "pseudonym":
            return naming.REGIONAL_PSEUDONYM_SYSTEM
        if name == "org":
            return naming.ORG_CODE_SYSTEM
        if org_code is None:
            raise PathError(f"${{{name}}} in {text!r} needs the institution code")
        if name == "record":
            return naming.record_identifier_system(org_code, arg or record_type)
        return naming.department_code_system(org_code)

    check_tokens(text)
    return _TOKEN.sub(replace, text)


def is_institution_specific(text: str) -> bool:
    """True when ``text`` holds a token whose value depends on the institution."""
    return any(m.group("name") in ("record", "dept") for m in _TOKEN.finditer(text))
