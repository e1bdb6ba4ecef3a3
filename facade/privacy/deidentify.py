"""Role views of stored FHIR data: the pseudonymised (QC) and de-identified (research) rules as data.

Element rules (RULES below; README "De-identification" has the same table with reasons):

    element          where                         QC (pseudonymised)        research (de-identified)
    ---------------  ----------------------------  ------------------------  -------------------------
    identifier       anywhere (not registry types)  values -> keyed tokens,   dropped; Patient gets one
                                                    regional pseudonym kept   research pseudonym
    name             anywhere, when a HumanName     dropped                   dropped
                     (object), not a plain string
    telecom, photo   anywhere                       dropped                   dropped
    contact          Patient/Organization (top)     dropped                   dropped
    address          anywhere                       state/city/district only  state/country only
    text             narrative (object)             dropped                   dropped (every ``text``)
    note             anywhere                       dropped                   dropped
    free text        valueString, valueMarkdown,    dropped                   dropped
                     comment, mitigation,
                     rationale, patientInstruction,
                     description
    display          inside a Reference             dropped                   dropped
    birthDate        Patient                        kept                      year only
    extension        anywhere                       IG and HL7-core URLs only (both views)
    other date-like  patient-linked resources       kept                      shifted by the patient's
    values                                                                    secret offset (see dates.py)
    id, reference    everywhere                     kept                      encrypted (see ids.py)
    meta             lastUpdated, source            kept                      dropped

Registry types (Organization, Measure) keep their content in every view; only their ids are
encrypted in the research view so references stay consistent. A patient-linked resource whose
patient cannot be determined loses every date (fail closed) rather than keep real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

from facade.fhir.naming import CANONICAL, REGIONAL_PSEUDONYM_SYSTEM, RESEARCH_PSEUDONYM_SYSTEM
from facade.privacy.dates import is_date_like, shift_date_value, shift_days, year_only
from facade.privacy.ids import ResearchIds
from facade.privacy.pseudonym import research_pseudonym
from facade.security.roles import REGISTRY_TYPES, View


class Action(StrEnum):
    """What a rule does to the element it names."""

    DROP = "drop"
    DROP_IN_REFERENCE = "drop-in-reference"  # only a Reference's display, not a Coding's
    DROP_OBJECT = (
        "drop-if-object"  # HumanName/Narrative objects; plain strings (Organization.name) stay
    )
    REGION_QC = "keep-state-city-district"
    REGION_RESEARCH = "keep-state-country"
    YEAR_ONLY = "year-only"
    TOKENISE = "tokenise-identifiers"
    REMOVE_IDENTIFIERS = "remove-identifiers"
    KNOWN_EXTENSIONS = "keep-known-extensions"


@dataclass(frozen=True)
class Rule:
    """One row of the de-identification table."""

    element: str
    action: Action
    views: frozenset[View]
    types: frozenset[str] | None = None  # resource types it applies to (None: every type)
    top_level: bool = False  # only the resource's own element, not same-named nested ones
    reason: str = ""


_QC = View.PSEUDONYMISED
_RS = View.DEIDENTIFIED
_BOTH = frozenset({_QC, _RS})
FREE_TEXT = (
    "valueString",
    "valueMarkdown",
    "comment",
    "mitigation",
    "rationale",
    "patientInstruction",
    "description",
)

RULES: tuple[Rule, ...] = (
    Rule(
        "identifier",
        Action.TOKENISE,
        frozenset({_QC}),
        reason="record numbers identify a patient at a hospital",
    ),
    Rule(
        "identifier",
        Action.REMOVE_IDENTIFIERS,
        frozenset({_RS}),
        reason="no identifier leaves for research",
    ),
    Rule(
        "name", Action.DROP_OBJECT, _BOTH, reason="person names (HumanName) are direct identifiers"
    ),
    Rule("telecom", Action.DROP, _BOTH, reason="phone and e-mail are direct identifiers"),
    Rule("photo", Action.DROP, _BOTH, reason="faces are direct identifiers"),
    Rule(
        "contact",
        Action.DROP,
        _BOTH,
        frozenset({"Patient", "Organization"}),
        top_level=True,
        reason="contact persons are third parties' identifiers",
    ),
    Rule("address", Action.REGION_QC, frozenset({_QC}), reason="QC works by district at most"),
    Rule(
        "address",
        Action.REGION_RESEARCH,
        frozenset({_RS}),
        reason="regions below province identify",
    ),
    Rule("text", Action.DROP_OBJECT, frozenset({_QC}), reason="narrative may name people"),
    Rule("text", Action.DROP, frozenset({_RS}), reason="narrative and free text may name people"),
    Rule("note", Action.DROP, _BOTH, reason="annotations are free text"),
    *(Rule(name, Action.DROP, _BOTH, reason="free text may name people") for name in FREE_TEXT),
    Rule(
        "display",
        Action.DROP_IN_REFERENCE,
        _BOTH,
        reason="a reference's display may be a person's name",
    ),
    Rule(
        "birthDate",
        Action.YEAR_ONLY,
        frozenset({_RS}),
        frozenset({"Patient"}),
        top_level=True,
        reason="exact birth date is a quasi-identifier",
    ),
    Rule(
        "extension",
        Action.KNOWN_EXTENSIONS,
        _BOTH,
        reason="unknown extensions may carry anything",
    ),
    Rule("modifierExtension", Action.KNOWN_EXTENSIONS, _BOTH, reason="as extension"),
    # The same data types as extension values.
    Rule("valueIdentifier", Action.TOKENISE, frozenset({_QC}), reason="as identifier"),
    Rule("valueIdentifier", Action.REMOVE_IDENTIFIERS, frozenset({_RS}), reason="as identifier"),
    Rule("valueHumanName", Action.DROP, _BOTH, reason="as name"),
    Rule("valueContactPoint", Action.DROP, _BOTH, reason="as telecom"),
    Rule("valueAddress", Action.REGION_QC, frozenset({_QC}), reason="as address"),
    Rule("valueAddress", Action.REGION_RESEARCH, frozenset({_RS}), reason="as address"),
    *(
        Rule(
            name, Action.DROP, frozenset({_RS}), reason="attachments and URLs can point at a person"
        )
        for name in ("valueAttachment", "valueUri", "valueUrl")
    ),
)
KNOWN_EXTENSION_PREFIXES = (CANONICAL + "/", "http://hl7.org/fhir/StructureDefinition/")
# Keys whose string values are never dates (codes, ids, URLs): not date-shifted.
_NOT_DATES = frozenset(
    {"id", "reference", "system", "code", "version", "url", "unit", "value", "div", "status"}
)
_DROP = object()


@dataclass(frozen=True)
class Keys:
    """Secrets the views need (from Settings.secret)."""

    pseudonym_key: bytes
    research_key: bytes
    shift_max_days: int


def regional_of(patient: dict[str, Any]) -> str | None:
    """The regional pseudonym stored on a Patient, if it has one."""
    for ident in patient.get("identifier") or []:
        if (
            isinstance(ident, dict)
            and ident.get("system") == REGIONAL_PSEUDONYM_SYSTEM
            and ident.get("value")
        ):
            return str(ident["value"])
    return None


class Viewer:
    """Applies one view's rules to resources; ``subject`` keys each patient's date offset."""

    def __init__(self, view: View, keys: Keys) -> None:
        self.view = view
        self.keys = keys
        self.ids = ResearchIds(keys.research_key) if view is View.DEIDENTIFIED else None
        self._rules: dict[str, list[Rule]] = {}
        for rule in RULES:
            if view in rule.views:
                self._rules.setdefault(rule.element, []).append(rule)

    def resource(
        self, resource: dict[str, Any], subject: str | None = None, *, contained: bool = False
    ) -> dict[str, Any]:
        """A copy of ``resource`` as this view shows it.

        ``subject`` is the date-shift key of the resource's patient (regional pseudonym, else
        ``Patient/<id>``); None means unknown, and then the research view drops every date of a
        patient-linked resource.
        """
        if self.view is View.STORED:
            return resource
        rtype = str(resource.get("resourceType", ""))
        registry = rtype in REGISTRY_TYPES
        days = None
        if self.view is View.DEIDENTIFIED and subject is not None:
            days = shift_days(self.keys.research_key, subject, self.keys.shift_max_days)
        walker = _Walk(self, rtype, registry, days, subject)
        result = walker.node(resource, depth=0, key="")
        assert isinstance(result, dict)  # noqa: S101 - a dict in gives a dict out
        if self.view is View.DEIDENTIFIED:
            _research_meta(result)
            if self.ids is not None and isinstance(resource.get("id"), str) and not contained:
                result["id"] = self.ids.encode(rtype, resource["id"])
            if rtype == "Patient":
                regional = regional_of(resource)
                if regional:
                    token = research_pseudonym(regional, self.keys.research_key)
                    result["identifier"] = [{"system": RESEARCH_PSEUDONYM_SYSTEM, "value": token}]
        return result

    def reference(self, reference: str) -> str | None:
        """A literal reference as this view shows it (None: drop it)."""
        if self.ids is None or reference.startswith("#"):
            return reference
        parts = reference.split("/")
        if len(parts) == 2 and parts[0][:1].isupper():
            return f"{parts[0]}/{self.ids.encode(parts[0], parts[1])}"
        if len(parts) == 4 and parts[2] == "_history":
            return f"{parts[0]}/{self.ids.encode(parts[0], parts[1])}"
        return None  # absolute or conditional references can't be shown safely

    def token(self, system: str, value: str) -> str:
        """QC token of a hospital identifier value (stable, keyed, not reversible)."""
        mac = hmac.HMAC(self.keys.pseudonym_key, hashes.SM3())
        mac.update(f"qc-token|{system}|{value}".encode())
        return "t-" + mac.finalize().hex()[:24]


def _research_meta(resource: dict[str, Any]) -> None:
    meta = resource.get("meta")
    if isinstance(meta, dict):
        for key in ("lastUpdated", "source"):
            meta.pop(key, None)


class _Walk:
    """One pass over one resource."""

    def __init__(
        self, viewer: Viewer, rtype: str, registry: bool, days: int | None, subject: str | None
    ) -> None:
        self.viewer = viewer
        self.subject = subject
        self.rtype = rtype
        self.registry = registry
        self.days = days
        self.research = viewer.view is View.DEIDENTIFIED

    def node(self, value: Any, depth: int, key: str) -> Any:
        if isinstance(value, dict):
            return self.obj(value, depth)
        if isinstance(value, list):
            items = [self.node(item, depth, key) for item in value]
            kept = [item for item in items if item is not _DROP]
            return kept if kept else _DROP
        if isinstance(value, str) and self.research and not self.registry:
            return self.scalar(value, key)
        return value

    def scalar(self, value: str, key: str) -> Any:
        if key in _NOT_DATES or key == "reference" or not is_date_like(value):
            return value
        if self.days is None:
            return _DROP  # patient unknown: no real date may pass
        shifted = shift_date_value(value, self.days)
        return shifted if shifted is not None else _DROP

    def obj(self, value: dict[str, Any], depth: int) -> Any:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "contained" and isinstance(item, list):
                out[key] = [
                    self.viewer.resource(c, self.subject, contained=True)
                    if isinstance(c, dict)
                    else c
                    for c in item
                ]
                continue
            if key == "meta" and depth == 0:
                out[key] = item if not isinstance(item, dict) else dict(item)
                continue
            if key.startswith("_") and self.research:
                continue  # primitive extensions (e.g. _birthDate) are not needed for research
            if key == "reference" and isinstance(item, str):
                shown = self.viewer.reference(item)
                if shown is not None:
                    out[key] = shown
                continue
            result = self.apply_rules(key, item, value, depth)
            if result is not _DROP:
                out[key] = result
        return out if out or depth == 0 else _DROP

    def apply_rules(self, key: str, item: Any, parent: dict[str, Any], depth: int) -> Any:
        if self.registry:  # shared registry data: only ids and references change
            return self.node(item, depth + 1, key)
        for rule in self.viewer._rules.get(key, ()):
            if rule.types is not None and self.rtype not in rule.types:
                continue
            if rule.top_level and depth != 0:
                continue
            handler = _HANDLERS[rule.action]
            return handler(self, item, parent, depth)
        return self.node(item, depth + 1, key)


def _drop(_w: _Walk, _item: Any, _parent: dict[str, Any], _depth: int) -> Any:
    return _DROP


def _drop_object(w: _Walk, item: Any, _parent: dict[str, Any], depth: int) -> Any:
    if isinstance(item, dict | list):
        return _DROP
    return w.node(item, depth + 1, "name")


def _drop_in_reference(w: _Walk, item: Any, parent: dict[str, Any], depth: int) -> Any:
    if "code" in parent or "system" in parent:
        return w.node(item, depth + 1, "display")
    return _DROP


def _region(keep: tuple[str, ...]) -> Callable[[_Walk, Any, dict[str, Any], int], Any]:
    def handler(w: _Walk, item: Any, _parent: dict[str, Any], depth: int) -> Any:
        addresses = item if isinstance(item, list) else [item]
        kept = [{k: v for k, v in a.items() if k in keep} for a in addresses if isinstance(a, dict)]
        kept = [a for a in kept if a]
        if not kept:
            return _DROP
        return kept if isinstance(item, list) else kept[0]

    return handler


def _year_only(_w: _Walk, item: Any, _parent: dict[str, Any], _depth: int) -> Any:
    year = year_only(item) if isinstance(item, str) else None
    return year if year is not None else _DROP


def _tokenise(w: _Walk, item: Any, _parent: dict[str, Any], depth: int) -> Any:
    def one(ident: Any) -> Any:
        if not isinstance(ident, dict):
            return _DROP
        if ident.get("system") == REGIONAL_PSEUDONYM_SYSTEM:
            return ident
        shown = {k: v for k, v in ident.items() if k in ("use", "type", "system")}
        if "value" in ident:
            shown["value"] = w.viewer.token(str(ident.get("system", "")), str(ident["value"]))
        return shown

    if isinstance(item, list):
        kept = [x for x in (one(i) for i in item) if x is not _DROP]
        return kept if kept else _DROP
    return one(item)


def _remove_identifiers(_w: _Walk, _item: Any, _parent: dict[str, Any], _depth: int) -> Any:
    return _DROP  # the Patient's research pseudonym is added after the walk


def _known_extensions(w: _Walk, item: Any, _parent: dict[str, Any], depth: int) -> Any:
    items = item if isinstance(item, list) else [item]
    kept = []
    for ext in items:
        if not isinstance(ext, dict) or not str(ext.get("url", "")).startswith(
            KNOWN_EXTENSION_PREFIXES
        ):
            continue
        shown = w.node(ext, depth + 1, "extension")
        # An extension whose value was removed would be invalid (ext-1); drop it whole.
        if isinstance(shown, dict) and (
            "extension" in shown or any(k.startswith("value") for k in shown)
        ):
            kept.append(shown)
    return kept if kept else _DROP


_HANDLERS: dict[Action, Callable[[_Walk, Any, dict[str, Any], int], Any]] = {
    Action.DROP: _drop,
    Action.DROP_IN_REFERENCE: _drop_in_reference,
    Action.DROP_OBJECT: _drop_object,
    Action.REGION_QC: _region(("use", "type", "state", "city", "district", "country")),
    Action.REGION_RESEARCH: _region(("state", "country")),
    Action.YEAR_ONLY: _year_only,
    Action.TOKENISE: _tokenise,
    Action.REMOVE_IDENTIFIERS: _remove_identifiers,
    Action.KNOWN_EXTENSIONS: _known_extensions,
}
