"""Which rule of the view data applies to an element at a place, and whether its transform fits the type.

Most specific first: the resource file's rule for the element's JSON path (``identifier.value``
in organization.yaml), then its rule for the element's definition path (``referenceRange.low``
also covers ``component.referenceRange.low``), then the data-type rule (``Identifier.value``),
then the rule of the base element it inherits (``Element.id``, ``Quantity.unit`` for ``Age.unit``).
A choice element is looked up by its JSON name (``valueQuantity``) before its ``[x]`` name.
"""

from __future__ import annotations

from dataclasses import dataclass

from facade.privacy.elements import Catalogue, ElementDef
from facade.privacy.viewdata import Rule, Transform, ViewData

DATE_TYPES = frozenset({"date", "dateTime", "instant"})

# Transforms tied to one element (by its base definition path), or to a set of types.
_FOR_ELEMENT: dict[Transform, frozenset[str]] = {
    Transform.PSEUDONYMISE: frozenset({"Identifier.value"}),
    Transform.RESEARCH_PSEUDONYM: frozenset({"Patient.identifier"}),
    Transform.DISPLAY: frozenset({"Coding.display"}),
    Transform.UCUM_UNIT: frozenset({"Quantity.unit"}),
    Transform.ENCRYPT_ID: frozenset({"Resource.id"}),
    Transform.RELATIVE_REFERENCE: frozenset({"Reference.reference"}),
    Transform.RESEARCH_REFERENCE: frozenset({"Reference.reference"}),
    Transform.TAGS: frozenset({"Meta.tag"}),
    Transform.IG_PROFILES: frozenset({"Meta.profile"}),
    Transform.DECLARED_EXTENSIONS: frozenset(
        {"Element.extension", "DomainResource.extension", "Extension.extension"}
    ),
}
_FOR_TYPES: dict[Transform, frozenset[str]] = {
    Transform.DATE_SHIFT: DATE_TYPES,
    Transform.YEAR: DATE_TYPES,
}
# Element types a view can only drop: contained resources are never projected.
_DROP_ONLY = frozenset({"Resource"})


@dataclass(frozen=True)
class Found:
    """A rule and where it was declared (``patient.yaml: elements.birthDate``)."""

    rule: Rule
    where: str


class RuleBook:
    """Looks rules up for elements; remembers which resource-file keys were used."""

    def __init__(self, data: ViewData, catalogue: Catalogue) -> None:
        self.data = data
        self.catalogue = catalogue
        self.used: set[tuple[str, str]] = set()

    def find(
        self, element: ElementDef, json_name: str, rtype: str | None, at: str | None
    ) -> Found | None:
        """The rule for ``element`` shown as ``json_name`` at JSON path ``at`` of a ``rtype``."""
        if rtype is not None and at is not None:
            own = self.data.resources.get(rtype)
            if own is not None:
                for key in _keys(at, json_name, element, rtype):
                    rule = own.elements.get(key)
                    if rule is not None:
                        self.used.add((rtype, key))
                        return Found(rule, f"{self.data.file_of(rtype)}: elements.{key}")
        for path in _type_paths(element, json_name):
            rule = self.data.type_rule(path)
            if rule is not None:
                owner, _, key = path.partition(".")
                return Found(rule, f"{self.data.file_of(None)}: types.{owner}.{key}")
        return None


def _keys(at: str, json_name: str, element: ElementDef, rtype: str) -> list[str]:
    keys = [at]
    if element.choice:
        keys.append(at[: len(at) - len(json_name)] + element.name)
    if element.owner == rtype:
        parent = element.path.rpartition(".")[0]
        own = f"{parent}.{json_name}" if parent else json_name
        keys += [own, element.path] if element.choice else [own]
    return list(dict.fromkeys(keys))


def _type_paths(element: ElementDef, json_name: str) -> list[str]:
    parent = element.full.rpartition(".")[0]
    paths = [f"{parent}.{json_name}", element.full] if element.choice else [element.full]
    if element.base != element.full:
        paths.append(element.base)
    return list(dict.fromkeys(paths))


def misfit(transform: Transform, element: ElementDef, type_code: str) -> str | None:
    """Why ``transform`` cannot apply to this element, or None when it can."""
    if type_code in _DROP_ONLY and transform is not Transform.DROP:
        return f"{transform.value} is not possible on {type_code} elements (only drop)"
    paths = _FOR_ELEMENT.get(transform)
    if paths is not None and element.base not in paths and element.full not in paths:
        return f"{transform.value} applies only to {', '.join(sorted(paths))}"
    types = _FOR_TYPES.get(transform)
    if types is not None and type_code not in types:
        return f"{transform.value} applies only to {', '.join(sorted(types))} values"
    return None
