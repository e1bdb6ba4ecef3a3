"""Read and write dictionary element paths inside FHIR JSON, knowing which elements repeat.

The dictionary's path syntax (``facade.dictionary.paths``) does not say whether a step is a list:
``identifier[system=X]`` selects a repetition on ``Encounter.identifier`` but simply constrains
the single ``Reference.identifier``. The FHIR structure decides, so every walk carries the type
it stands on and asks ``facade.fhir.models.element_info``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from facade.dictionary.paths import Step, parse
from facade.fhir.models import element_info

Json = dict[str, Any]
Resolve = Callable[[str], str]


class MappingError(ValueError):
    """A path cannot be applied to the resource (a dictionary or engine bug, never bad input)."""


@cache
def steps_of(path: str) -> tuple[Step, ...]:
    """Parsed steps of a dictionary path (parsed once per distinct path)."""
    return tuple(parse(path))


def _child(type_name: str, step: Step) -> tuple[str, bool]:
    info = element_info(type_name, step.name)
    if info is None:
        raise MappingError(f"{type_name} has no element {step.name!r}")
    return info


def _selected(item: Any, key: str, value: str) -> bool:
    return isinstance(item, dict) and item.get(key) == value


def put(node: Json, type_name: str, steps: Sequence[Step], value: Any, resolve: Resolve) -> Json:
    """Set ``value`` at ``steps`` below ``node`` (creating what is missing); return the parent object.

    The parent is returned so callers can complete it (a Coding's ``system`` and ``display``).
    """
    parent, holder_type = enter(node, type_name, steps[:-1], resolve)
    last = steps[-1]
    _, repeated = _child(holder_type, last)
    if last.index is None and last.key is None and not repeated:
        if parent.get(last.name, value) != value:
            raise MappingError(f"two values for {last.name!r}: the dictionary maps twice into it")
        parent[last.name] = value
        return parent
    raise MappingError(f"the last step {last} must be a single element")


def parent_type(type_name: str, steps: Sequence[Step]) -> str:
    """The FHIR type of the element holding the last step (e.g. ``Coding`` for ``coding[0].code``)."""
    current = type_name
    for step in steps[:-1]:
        current = _child(current, step)[0]
    return current


def enter(node: Json, type_name: str, steps: Sequence[Step], resolve: Resolve) -> tuple[Json, str]:
    """Walk ``steps`` from ``node``, creating objects and repetitions as needed; return (object, type)."""
    current, current_type = node, type_name
    for step in steps:
        child_type, repeated = _child(current_type, step)
        if repeated:
            items = current.setdefault(step.name, [])
            current = _repetition(items, step, resolve)
        else:
            found = current.setdefault(step.name, {})
            if not isinstance(found, dict):
                raise MappingError(f"{step.name} already holds a value")
            if step.index not in (None, 0):
                raise MappingError(f"{step.name} does not repeat; index {step.index} is invalid")
            if step.key is not None and step.value is not None:
                wanted = resolve(step.value)
                if found.setdefault(step.key, wanted) != wanted:
                    raise MappingError(f"{step.name}.{step.key} is already set to another value")
            current = found
        current_type = child_type
    return current, current_type


def _repetition(items: list[Any], step: Step, resolve: Resolve) -> Json:
    if step.key is not None and step.value is not None:
        wanted = resolve(step.value)
        for item in items:
            if _selected(item, step.key, wanted):
                return item  # type: ignore[no-any-return]
        fresh: Json = {step.key: wanted}
        items.append(fresh)
        return fresh
    index = step.index or 0
    if index < len(items):
        if not isinstance(items[index], dict):
            raise MappingError(f"{step.name}[{index}] is not an object")
        return items[index]  # type: ignore[no-any-return]
    if index == len(items):
        fresh = {}
        items.append(fresh)
        return fresh
    raise MappingError(f"{step.name}[{index}] would leave a gap")


def append(node: Json, type_name: str, steps: Sequence[Step], resolve: Resolve) -> tuple[Json, str]:
    """Add a new repetition at ``steps`` (a repeating group item) and return it with its type.

    A ``key=value`` selector on the last step becomes the new element's first member (an
    extension's ``url``), so each call yields a distinct element even when they share the key.
    """
    parent, holder = enter(node, type_name, steps[:-1], resolve)
    last = steps[-1]
    child_type, repeated = _child(holder, last)
    if not repeated:
        raise MappingError(f"{last.name} does not repeat; a group cannot map to it")
    fresh: Json = {}
    if last.key is not None and last.value is not None:
        fresh[last.key] = resolve(last.value)
    parent.setdefault(last.name, []).append(fresh)
    return fresh, child_type


def get(node: Any, type_name: str, steps: Sequence[Step], resolve: Resolve) -> Any:
    """The value at ``steps`` below ``node``, or None when any step is absent."""
    current, current_type = node, type_name
    for step in steps:
        if not isinstance(current, dict):
            return None
        child_type, repeated = _child(current_type, step)
        found = current.get(step.name)
        if found is None:
            return None
        if repeated:
            if not isinstance(found, list):
                return None
            found = _pick(found, step, resolve)
        elif step.key is not None and step.value is not None:
            if not _selected(found, step.key, resolve(step.value)):
                return None
        current, current_type = found, child_type
    return current


def _pick(items: list[Any], step: Step, resolve: Resolve) -> Any:
    if step.key is not None and step.value is not None:
        wanted = resolve(step.value)
        return next((item for item in items if _selected(item, step.key, wanted)), None)
    index = step.index or 0
    return items[index] if index < len(items) else None


def get_all(
    node: Json, type_name: str, steps: Sequence[Step], resolve: Resolve
) -> tuple[list[Json], str]:
    """Every repetition the last step selects (the items of an element group), with their type."""
    holder = get(node, type_name, steps[:-1], resolve) if len(steps) > 1 else node
    holder_type = parent_type(type_name, steps)
    last = steps[-1]
    child_type, _ = _child(holder_type, last)
    if not isinstance(holder, dict) or not isinstance(holder.get(last.name), list):
        return [], child_type
    items = [item for item in holder[last.name] if isinstance(item, dict)]
    if last.key is not None and last.value is not None:
        wanted = resolve(last.value)
        items = [item for item in items if item.get(last.key) == wanted]
    return items, child_type
