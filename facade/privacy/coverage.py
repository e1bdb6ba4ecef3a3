"""Start-up check: every element of every profile is classified in every view, or start-up fails.

Walks each profile of the guide (and the base definition of a viewed type without a profile)
through everything it allows: base elements the profile does not prohibit, the choice types it
permits, the data types of kept elements, and each extension it uses with its value[x] choices
or sub-extensions. An element under a dropped (or wholly transformed) element is covered by that
rule. Each unclassified element yields one line naming it, the profile and the view.
"""

from __future__ import annotations

from collections.abc import Mapping

from facade.privacy.elements import Catalogue, ElementDef, ExtensionDef, Profile
from facade.privacy.rules import RuleBook, misfit
from facade.privacy.viewdata import EXTENSIONS_FILE, VIEWS, Transform, ViewData
from facade.security.roles import POLICIES, View

MAX_PATH_STEPS = 16  # content references could loop; no profile goes nearly this deep


def viewed_types() -> set[str]:
    """Resource types some role reads through a pseudonymised or de-identified view."""
    return {rtype for rules in POLICIES.values() if rules.view in VIEWS for rtype in rules.read}


def check_coverage(data: ViewData, catalogue: Catalogue) -> list[str]:
    """Every problem found; empty when the views cover the guide completely."""
    problems: list[str] = []
    for rtype in sorted(viewed_types()):
        if rtype not in data.resources:
            problems.append(
                f"{rtype}: readable in the {' and '.join(v.value for v in VIEWS)} views but "
                f"mappings/views has no {rtype.lower()}.yaml"
            )
    memo: set[tuple[str, View]] = set()  # data types checked once, wherever first reached
    for rtype in sorted(data.resources):
        if rtype not in catalogue.types or catalogue.types[rtype].kind != "resource":
            problems.append(f"{data.file_of(rtype)}: type: {rtype} is not a resource type")
            continue
        profiles: list[Profile | None] = list(catalogue.profiles_of(rtype)) or [None]
        for profile in profiles:
            for view in VIEWS:
                _Walk(data, catalogue, view, rtype, profile, problems, memo).node(rtype, "", "", 0)
    for profile in catalogue.profiles.values():
        if profile.type not in data.resources:
            problems.append(
                f"profile {profile.id}: no view file {profile.type.lower()}.yaml for {profile.type}"
            )
    problems += _extensions(data, catalogue, memo)
    return list(dict.fromkeys(problems))


class _Walk:
    """One profile in one view."""

    def __init__(
        self,
        data: ViewData,
        catalogue: Catalogue,
        view: View,
        rtype: str | None,
        profile: Profile | None,
        problems: list[str],
        memo: set[tuple[str, View]],
    ) -> None:
        self.book = RuleBook(data, catalogue)
        self.data = data
        self.catalogue = catalogue
        self.view = view
        self.rtype = rtype
        self.profile = profile
        self.problems = problems
        self.memo = memo
        if profile is not None:
            self.label = f"profile {profile.id}"
        else:
            self.label = f"base {rtype} (no profile)" if rtype else "an extension value"

    def node(self, owner: str, parent: str, at: str, steps: int) -> None:
        """Check the children of ``owner``'s ``parent`` shown at JSON path ``at``."""
        if steps > MAX_PATH_STEPS:
            return
        specific = self.rtype is not None and (owner == self.rtype or at != "")
        for element in self.catalogue.children(owner, parent):
            allowed = None
            if owner == self.rtype and self.profile is not None:
                if not self.profile.allows(element.path):
                    continue
                allowed = self.profile.choices.get(element.path)
            for json_name, type_code in element.json_names(allowed):
                child_at = f"{at}.{json_name}" if at else json_name
                self.element(element, json_name, type_code, child_at if specific else "", steps)

    def element(
        self, element: ElementDef, json_name: str, type_code: str, at: str, steps: int
    ) -> None:
        rtype = self.rtype if at else None
        found = self.book.find(element, json_name, rtype, at or None)
        where = f"{self.rtype}.{at}" if at else f"{element.owner}.{element.path}"
        if found is None:
            home = f"{self.data.file_of(self.rtype)} or " if self.rtype else ""
            self.problems.append(
                f"{where} ({self.label}): no rule for the {self.view.value} view; classify it in "
                f"mappings/views/{home}{self.data.file_of(None)}"
            )
            return
        transform = found.rule.of(self.view)
        if transform is not Transform.KEEP or self.catalogue.is_primitive(type_code):
            return  # misfits are reported by the compiler (facade/privacy/plan.py)
        if misfit(transform, element, type_code):
            return
        owner, parent = self.catalogue.element_children(element, type_code)
        if element.backbone or (at and self._overridden(at)):
            self.node(owner, parent, at, steps + 1)
        else:
            self.generic(owner, steps + 1)

    def generic(self, type_name: str, steps: int = 0) -> None:
        """Check a data type's own rules (once per view)."""
        if (type_name, self.view) not in self.memo:
            self.memo.add((type_name, self.view))
            self.node(type_name, "", "", steps)

    def _overridden(self, at: str) -> bool:
        own = self.data.resources[self.rtype].elements if self.rtype else {}
        return any(key.startswith(at + ".") for key in own)


def _extensions(data: ViewData, catalogue: Catalogue, memo: set[tuple[str, View]]) -> list[str]:
    problems: list[str] = []
    declared = data.extensions.extensions
    for ext in catalogue.extensions.values():
        if ext.id not in declared:
            problems.append(
                f"extension {ext.id}: not classified; add it to mappings/views/{EXTENSIONS_FILE}"
            )
    for key in declared:
        if catalogue.extension_by_id(key) is None:
            problems.append(f"{EXTENSIONS_FILE}: extensions.{key}: not an extension of the guide")
    for profile in catalogue.profiles.values():
        for path, urls in profile.extensions.items():
            for url in urls:
                if url not in catalogue.extensions:
                    problems.append(
                        f"profile {profile.id}: {path} uses {url}, which is not one of the "
                        "guide's extensions (the views only show the guide's own)"
                    )
    for ext_id, rules in declared.items():
        found = catalogue.extension_by_id(ext_id)
        if found is not None:
            problems += _extension(found, rules.values, rules.subs, catalogue)
        for view in VIEWS:
            walker = _Walk(data, catalogue, view, None, None, problems, memo)
            value_rules = [*rules.values.items()]
            value_rules += [item for sub in rules.subs.values() for item in sub.items()]
            for name, rule in value_rules:
                type_code = name[len("value") :]
                if rule.of(view) is Transform.KEEP and type_code in catalogue.types:
                    walker.generic(type_code)
    return problems


def _extension(
    ext: ExtensionDef,
    values: Mapping[str, object],
    subs: Mapping[str, Mapping[str, object]],
    catalogue: Catalogue,
) -> list[str]:
    where = f"{EXTENSIONS_FILE}: extensions.{ext.id}"
    problems: list[str] = []
    value_element = next(e for e in catalogue.children("Extension") if e.name == "value[x]")
    wanted = {value_element.json_names((t,))[0][0]: t for t in ext.value_types}
    for name in wanted:
        if name not in values:
            problems.append(f"{where}: {name} is allowed by the extension but has no rule")
    for name in values:
        if name not in wanted:
            problems.append(f"{where}: {name} is not a value type of this extension")
    for sub_url, types in ext.subs.items():
        sub_wanted = {value_element.json_names((t,))[0][0] for t in types}
        declared = subs.get(sub_url)
        if declared is None:
            problems.append(f"{where}: sub-extension {sub_url} has no rules")
            continue
        problems += [
            f"{where}: extension.{sub_url}: {n} has no rule" for n in sub_wanted - set(declared)
        ]
        problems += [
            f"{where}: extension.{sub_url}: {n} is not a value type of it"
            for n in set(declared) - sub_wanted
        ]
    problems += [
        f"{where}: extension.{s}: not a sub-extension of {ext.id}"
        for s in set(subs) - set(ext.subs)
    ]
    return problems
