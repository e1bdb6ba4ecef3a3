"""Compile the view data into one plan per view and resource type, once, at start-up.

``ViewPlans.load(mappings_dir, profiles_dir)`` reads ``mappings/views`` and the guide, runs the
coverage check (facade/privacy/coverage.py), checks every rule (its transform fits the element;
no real date kept in the research view of a patient's data; no rule naming an element that does
not exist or is never reached) and compiles the nodes the walk uses. Any problem raises
ViewsError listing all of them, so the facade does not start with a view that could leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from facade.privacy.coverage import MAX_PATH_STEPS, check_coverage
from facade.privacy.elements import Catalogue, ElementDef
from facade.privacy.rules import DATE_TYPES, RuleBook, misfit
from facade.privacy.viewdata import (
    VIEWS,
    Rule,
    Transform,
    ViewData,
    ViewsError,
    load_view_data,
)
from facade.privacy.walk import (
    ELEMENT_TRANSFORMS,
    SCALARS,
    Field,
    Lookups,
    Node,
    extensions_field,
    keep_field,
    node_field,
    primitive_element_field,
    scalar_field,
)
from facade.security.roles import View

VIEWS_DIR = "views"


@dataclass(frozen=True)
class ViewPlans:
    """Compiled views: a node per (view, resource type), plus what the transforms look up."""

    data: ViewData
    catalogue: Catalogue
    lookups: Lookups
    nodes: dict[View, dict[str, Node]]
    patient_links: dict[str, str]  # resource type -> self | subject | none

    @classmethod
    def load(cls, mappings_dir: Path, profiles_dir: Path) -> ViewPlans:
        """Read, check and compile (cached per pair of directories)."""
        return _load(mappings_dir.resolve(), profiles_dir.resolve())

    @classmethod
    def build(cls, data: ViewData, catalogue: Catalogue) -> ViewPlans:
        """Check and compile already loaded data; raise ViewsError listing every problem."""
        problems = check_coverage(data, catalogue)
        problems += _check_type_keys(data, catalogue)
        profiles = frozenset(catalogue.profiles)
        lookups = Lookups(
            displays=catalogue.displays,
            tags=tuple(
                (t.system, frozenset(t.codes) if t.codes is not None else None)
                for t in data.datatypes.tags
            ),
            profiles=profiles,
        )
        nodes: dict[View, dict[str, Node]] = {}
        used: set[tuple[str, str]] = set()
        for view in VIEWS:
            compiler = _Compiler(data, catalogue, view)
            nodes[view] = {rtype: compiler.resource(rtype) for rtype in data.resources}
            compiler.extensions()
            problems += compiler.problems
            used |= compiler.book.used
        for rtype, own in data.resources.items():
            for key in own.elements:
                if (rtype, key) not in used:
                    problems.append(
                        f"{data.file_of(rtype)}: elements.{key}: not an element of {rtype} "
                        "reached by the view (misspelt, or under a dropped element)"
                    )
        problems = list(dict.fromkeys(problems))
        if problems:
            raise ViewsError(
                f"the role views in {data.root} are incomplete or wrong ({len(problems)} problems):\n  "
                + "\n  ".join(problems)
            )
        links = {rtype: str(own.patient) for rtype, own in data.resources.items()}
        return cls(data, catalogue, lookups, nodes, links)


@lru_cache(maxsize=8)
def _load(mappings_dir: Path, profiles_dir: Path) -> ViewPlans:
    data = load_view_data(mappings_dir / VIEWS_DIR)
    return ViewPlans.build(data, Catalogue.load(profiles_dir))


def _check_type_keys(data: ViewData, catalogue: Catalogue) -> list[str]:
    problems = []
    for owner, rules in data.datatypes.types.items():
        if owner not in catalogue.types:
            problems.append(f"{data.file_of(None)}: types.{owner}: not a FHIR type")
            continue
        names = set()
        for element in catalogue.types[owner].elements:
            if "." not in element.path:
                names.add(element.path)
                names.update(name for name, _ in element.json_names())
        problems += [
            f"{data.file_of(None)}: types.{owner}.{key}: {owner} has no element {key}"
            for key in rules
            if key not in names
        ]
    return problems


class _Compiler:
    """Builds the nodes of one view."""

    def __init__(self, data: ViewData, catalogue: Catalogue, view: View) -> None:
        self.data = data
        self.catalogue = catalogue
        self.view = view
        self.book = RuleBook(data, catalogue)
        self.generic: dict[str, Node] = {}
        self.extension_table: dict[str, Node] = {}
        self.problems: list[str] = []

    def resource(self, rtype: str) -> Node:
        """The node of one resource type."""
        node = Node()
        self.fill(node, rtype, "", rtype, "", 0)
        node.add("resourceType", keep_field(False))
        return node

    def generic_node(self, type_name: str) -> Node:
        """The node of a data type wherever no resource file overrides its elements (shared)."""
        node = self.generic.get(type_name)
        if node is None:
            node = self.generic[type_name] = Node()  # registered first: types nest recursively
            self.fill(node, type_name, "", None, "", 0)
        return node

    def fill(
        self, node: Node, owner: str, parent: str, rtype: str | None, at: str, steps: int
    ) -> None:
        """Give ``node`` a field for every classified, not dropped child of ``owner``'s ``parent``."""
        if steps > MAX_PATH_STEPS:
            return
        for element in self.catalogue.children(owner, parent):
            for json_name, type_code in element.json_names():
                child_at = (f"{at}.{json_name}" if at else json_name) if rtype else ""
                found = self.book.find(element, json_name, rtype, child_at or None)
                if found is None:
                    continue  # unclassified: never shown (coverage reports the profiles' ones)
                field = self.field(
                    element, type_code, found.rule, found.where, rtype, child_at, steps
                )
                if field is None:
                    continue
                node.add(json_name, field)
                transform = found.rule.of(self.view)
                if self.catalogue.is_primitive(type_code) and (
                    transform is Transform.KEEP or not element.many
                ):
                    node.add(
                        "_" + json_name,
                        primitive_element_field(self.generic_node("Element"), element.many),
                    )

    def field(
        self,
        element: ElementDef,
        type_code: str,
        rule: Rule,
        where: str,
        rtype: str | None,
        at: str,
        steps: int = 0,
    ) -> Field | None:
        """The field of one element under one rule (None: dropped)."""
        transform = rule.of(self.view)
        if transform is Transform.DROP:
            return None
        reason = misfit(transform, element, type_code)
        if reason:
            self.problems.append(f"{where}: {self.view.value}: {reason}")
            return None
        primitive = self.catalogue.is_primitive(type_code)
        if (
            self.view is View.DEIDENTIFIED
            and transform is Transform.KEEP
            and type_code in DATE_TYPES
            and (rtype is None or self.data.resources[rtype].patient != "none")
        ):
            self.problems.append(
                f"{where}: deidentified: keep would show real dates of a patient's data "
                "(date-shift, year or drop)"
            )
            return None
        if primitive:
            if transform is Transform.KEEP:
                return keep_field(element.many)
            return scalar_field(SCALARS[transform.value], element.many)
        if transform is Transform.DECLARED_EXTENSIONS:
            return extensions_field(self.extension_table)
        if transform.value in ELEMENT_TRANSFORMS:
            return ELEMENT_TRANSFORMS[transform.value]
        owner, parent = self.catalogue.element_children(element, type_code)
        if element.backbone:
            child = Node()
            self.fill(child, owner, parent, rtype, at, steps + 1)
        elif rtype is not None and self._overridden(rtype, at):
            child = Node()
            self.fill(child, owner, parent, rtype, at, steps + 1)
        else:
            child = self.generic_node(owner)
        return node_field(child, element.many)

    def _overridden(self, rtype: str, at: str) -> bool:
        return any(key.startswith(at + ".") for key in self.data.resources[rtype].elements)

    def extensions(self) -> None:
        """Fill the table of the guide's extensions (url -> node) this view shows."""
        value = next(e for e in self.catalogue.children("Extension") if e.name == "value[x]")
        types = dict(value.json_names())
        id_rule = self.data.type_rule("Element.id")
        for ext_id, rules in self.data.extensions.extensions.items():
            ext = self.catalogue.extension_by_id(ext_id)
            if ext is None:
                continue  # reported by the coverage check
            where = f"_extensions.yaml: extensions.{ext_id}"
            node = self._extension_node(value, types, rules.values, where, id_rule)
            if rules.subs:
                subs: dict[str, Node] = {}
                for sub_url, sub_rules in rules.subs.items():
                    subs[sub_url] = self._extension_node(
                        value, types, sub_rules, f"{where}.extension.{sub_url}", id_rule
                    )
                node.add("extension", extensions_field(subs))
            self.extension_table[ext.url] = node

    def _extension_node(
        self,
        value: ElementDef,
        types: dict[str, str],
        rules: dict[str, Rule],
        where: str,
        id_rule: Rule | None,
    ) -> Node:
        node = Node()
        node.add("url", keep_field(False))
        if id_rule is not None and id_rule.of(self.view) is Transform.KEEP:
            node.add("id", keep_field(False))
        for name, rule in rules.items():
            type_code = types.get(name)
            if type_code is None:
                continue  # reported by the coverage check
            field = self.field(value, type_code, rule, f"{where}.{name}", None, "")
            node.add(name, field)
        return node
