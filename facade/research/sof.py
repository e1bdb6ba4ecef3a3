"""A SQL-on-FHIR v2 ViewDefinition runner on fhirpathpy: resources in, flat rows out.

Supports what the spec's core defines and the project's views use: ``select`` (nested),
``column`` (``name``, ``path``, ``collection``, ``type``), ``forEach``, ``forEachOrNull``,
``unionAll``, view-level ``where``, ``constant`` (``%name``), and the functions
``getResourceKey()`` and ``getReferenceKey([type])``; ``repeat`` and ``%rowIndex`` (2.1 drafts)
are not supported and refused. Keys are the resource's logical id (and the id part of a
reference), so a stay table joins its diagnoses on ``stay_id``. The official test files this
runner passes are listed in facade/research/README.md; tests/research/test_sof_official.py runs
them in CI.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from fhirpathpy import compile as compile_path
from fhirpathpy.models import models

from facade.errors import InvalidInput, Issue

Row = dict[str, Any]
_MODEL = models["r4"]
_UNSUPPORTED = ("repeat",)


class ViewError(InvalidInput):
    """A ViewDefinition the runner cannot run (the message names the element)."""


def _fail(where: str, message: str) -> ViewError:
    return ViewError(message, issues=[Issue(where, "view-definition", message)])


def _id_of(node: Any) -> str | None:
    data = getattr(node, "data", node)
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])
    return None


def _resource_key(inputs: list[Any]) -> list[str]:
    return [key for key in (_id_of(n) for n in inputs) if key is not None]


def _reference_key(inputs: list[Any], wanted: Any = None) -> list[str]:
    type_name = getattr(wanted, "name", None) if wanted is not None else None
    keys = []
    for node in inputs:
        data = getattr(node, "data", node)
        ref = data.get("reference") if isinstance(data, dict) else None
        if not isinstance(ref, str):
            continue
        parts = ref.split("/_history/")[0].split("/")
        if len(parts) < 2 or (type_name and parts[-2] != type_name):
            continue
        keys.append(parts[-1])
    return keys


_FUNCTIONS = {
    "getResourceKey": {"fn": _resource_key, "arity": {0: []}},
    "getReferenceKey": {"fn": _reference_key, "arity": {0: [], 1: ["TypeSpecifier"]}},
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    data = getattr(value, "data", None)
    if data is not None:
        return data
    return str(value)


class _Column:
    def __init__(self, spec: dict[str, Any], where: str, compiler: Callable[[str, str], Any]):
        name = spec.get("name")
        path = spec.get("path")
        if not isinstance(name, str) or not name or not isinstance(path, str):
            raise _fail(where, "a column needs a name and a path")
        self.name = name
        self.collection = bool(spec.get("collection", False))
        self.path = compiler(path, f"{where}.path")
        self.where = where


class _Select:
    """One select node, compiled."""

    def __init__(self, spec: dict[str, Any], where: str, compiler: Callable[[str, str], Any]):
        for key in _UNSUPPORTED:
            if key in spec:
                raise _fail(f"{where}.{key}", f"{key} is not supported by this runner")
        self.for_each = spec.get("forEach")
        self.or_null = spec.get("forEachOrNull")
        if self.for_each is not None and self.or_null is not None:
            raise _fail(where, "forEach and forEachOrNull cannot both be set")
        iterate = self.for_each if self.for_each is not None else self.or_null
        if iterate is not None and not isinstance(iterate, str):
            raise _fail(f"{where}.forEach", "forEach and forEachOrNull take a FHIRPath string")
        self.iterate = compiler(iterate, f"{where}.forEach") if iterate is not None else None
        self.columns = [
            _Column(c, f"{where}.column[{i}]", compiler)
            for i, c in enumerate(spec.get("column", []))
        ]
        self.selects = [
            _Select(s, f"{where}.select[{i}]", compiler)
            for i, s in enumerate(spec.get("select", []))
        ]
        self.union = [
            _Select(s, f"{where}.unionAll[{i}]", compiler)
            for i, s in enumerate(spec.get("unionAll", []))
        ]
        if self.union:
            shapes = {tuple(u.names()) for u in self.union}
            if len(shapes) > 1:
                raise _fail(f"{where}.unionAll", "every unionAll branch must have the same columns")
        self.where = where

    def names(self) -> list[str]:
        """Column names this select contributes, in order."""
        out = [c.name for c in self.columns]
        for sub in self.selects:
            out.extend(sub.names())
        if self.union:
            out.extend(self.union[0].names())
        return out

    def rows(self, node: Any, env: dict[str, Any]) -> list[Row]:
        if self.iterate is not None:
            foci = _run(self.iterate, node, env, self.where)
            if not foci:
                return [dict.fromkeys(self.names())] if self.or_null is not None else []
        else:
            foci = [node]
        out: list[Row] = []
        for focus in foci:
            parts: list[list[Row]] = [[self._columns(focus, env)]]
            parts.extend(sub.rows(focus, env) for sub in self.selects)
            if self.union:
                parts.append([row for branch in self.union for row in branch.rows(focus, env)])
            for combo in itertools.product(*parts):
                merged: Row = {}
                for piece in combo:
                    merged.update(piece)
                out.append(merged)
        return out

    def _columns(self, focus: Any, env: dict[str, Any]) -> Row:
        row: Row = {}
        for column in self.columns:
            values = [_plain(v) for v in _run(column.path, focus, env, column.where)]
            if column.collection:
                row[column.name] = values
            elif len(values) > 1:
                raise _fail(
                    column.where,
                    f"column {column.name} has several values but collection is not true",
                )
            else:
                row[column.name] = values[0] if values else None
        return row


class View:
    """A compiled ViewDefinition."""

    def __init__(self, definition: dict[str, Any]) -> None:
        resource = definition.get("resource")
        if not isinstance(resource, str) or not resource:
            raise _fail("ViewDefinition.resource", "a view needs the resource type it reads")
        self.resource = resource
        self.name = str(definition.get("name") or resource)
        self.env = {c["name"]: _constant(c) for c in definition.get("constant", [])}
        self._select = _Select(
            {"select": definition.get("select", [])}, "ViewDefinition", self._compile
        )
        self._where = [
            self._compile(w.get("path", ""), f"ViewDefinition.where[{i}]")
            for i, w in enumerate(definition.get("where", []))
        ]
        self.columns = self._select.names()
        if len(set(self.columns)) != len(self.columns):
            raise _fail("ViewDefinition.select", "column names must be unique")

    def _compile(self, path: str, where: str) -> Callable[[Any, dict[str, Any]], list[Any]]:
        if not isinstance(path, str) or not path.strip():
            raise _fail(where, "a path must be a non-empty FHIRPath string")
        path = path.strip()
        # fhirpathpy binds $this only inside functions; at the top of a path it is the focus.
        if path == "$this":
            return lambda node, _env: [node]
        path = path.removeprefix("$this.")
        for name in _constants_used(path):
            if name not in self.env and name not in ("resource", "rootResource", "context", "ucum"):
                raise _fail(where, f"undefined constant %{name}")
        try:
            return compile_path(path, _MODEL, {"userInvocationTable": _FUNCTIONS})
        except Exception as exc:  # fhirpathpy raises plain exceptions on syntax errors
            raise _fail(where, f"not a valid FHIRPath expression: {path!r}") from exc

    def rows(self, resources: Iterable[dict[str, Any]]) -> Iterator[Row]:
        """The rows of every resource of the view's type, in input order."""
        for resource in resources:
            if resource.get("resourceType") != self.resource:
                continue
            if not all(
                _truth(_run(w, resource, self.env, "ViewDefinition.where")) for w in self._where
            ):
                continue
            yield from self._select.rows(resource, self.env)


def _run(
    path: Callable[[Any, dict[str, Any]], list[Any]], node: Any, env: dict[str, Any], where: str
) -> list[Any]:
    # fhirpathpy keeps its own variables ($this, ...) in the context: give each call a fresh one.
    try:
        return path(node, dict(env))
    except ViewError:
        raise
    except Exception as exc:  # an expression that fails on this data (wrong type, ...)
        raise _fail(where, f"the expression failed on a {type(exc).__name__}") from exc


def _truth(values: list[Any]) -> bool:
    if not values:
        return False
    if len(values) != 1 or not isinstance(values[0], bool):
        raise _fail("ViewDefinition.where", "a where path must evaluate to a single boolean")
    return values[0]


def _constant(spec: dict[str, Any]) -> Any:
    values = [v for k, v in spec.items() if k.startswith("value")]
    if not isinstance(spec.get("name"), str) or len(values) != 1:
        raise _fail("ViewDefinition.constant", "a constant needs a name and exactly one value[x]")
    return values[0]


def _constants_used(path: str) -> set[str]:
    names = set()
    quoted = False
    for index, char in enumerate(path):
        if char == "'":
            quoted = not quoted
        elif char == "%" and not quoted:
            tail = path[index + 1 :]
            name = ""
            for c in tail:
                if c.isalnum() or c == "_":
                    name += c
                else:
                    break
            if name:
                names.add(name)
    return names
