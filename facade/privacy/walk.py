"""The projection walk: a precompiled plan per resource type applied to plain JSON dicts.

A ``Node`` maps JSON keys to fields; a field is a closure ``(value, parent, ctx, depth) -> shown``
returning None to drop. Keys without a field are dropped, so whatever the plan does not name
never leaves. The walk is bounded (``MAX_DEPTH`` nested objects; deeper content is dropped) and
never copies anything it does not show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, RESEARCH_PSEUDONYM_SYSTEM
from facade.privacy.dates import shift_date_value, year_only
from facade.privacy.ids import ResearchIds
from facade.privacy.pseudonym import research_pseudonym

MAX_DEPTH = 24
UCUM = "http://unitsofmeasure.org"
_RELATIVE = re.compile(
    r"^(?P<type>[A-Z][A-Za-z]{1,63})/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


@dataclass(frozen=True)
class Keys:
    """Secrets the views need (from Settings.secret)."""

    pseudonym_key: bytes
    research_key: bytes
    shift_max_days: int


class Secrets:
    """Keyed operations of the views, with caches (ids and tokens repeat across a page)."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.ids = ResearchIds(keys.research_key)
        self._id_cache: dict[tuple[str, str], str] = {}
        self._token_cache: dict[tuple[str, str], str] = {}

    def research_id(self, resource_type: str, real_id: str) -> str:
        """The research id of a stored id (cached)."""
        key = (resource_type, real_id)
        found = self._id_cache.get(key)
        if found is None:
            if len(self._id_cache) > 100_000:
                self._id_cache.clear()
            found = self._id_cache[key] = self.ids.encode(resource_type, real_id)
        return found

    def token(self, system: str, value: str) -> str:
        """QC token of a hospital identifier value (stable, keyed, not reversible)."""
        key = (system, value)
        found = self._token_cache.get(key)
        if found is None:
            if len(self._token_cache) > 100_000:
                self._token_cache.clear()
            mac = hmac.HMAC(self.keys.pseudonym_key, hashes.SM3())
            mac.update(f"qc-token|{system}|{value}".encode())
            found = self._token_cache[key] = "t-" + mac.finalize().hex()[:24]
        return found


@dataclass
class Ctx:
    """What the fields of one resource's walk share."""

    rtype: str
    linked: bool  # the resource is about a patient (its dates move)
    days: int | None  # that patient's offset; None: unknown, dates are dropped
    secrets: Secrets
    lookups: Lookups


@dataclass(frozen=True)
class Lookups:
    """Data the transforms consult: displays, allowed tags and profiles, extension plans."""

    displays: dict[str, dict[str, str]]
    tags: tuple[tuple[str, frozenset[str] | None], ...]
    profiles: frozenset[str]


Field = Callable[[Any, dict[str, Any], Ctx, int], Any]


@dataclass
class Node:
    """How one JSON object of a type is shown: its visible keys and what happens to each.

    ``keep`` holds the single-valued primitives shown as stored (most keys): the walk handles
    them inline instead of calling a field, which halves its cost.
    """

    fields: dict[str, Field] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)

    def add(self, name: str, apply: Field | None) -> None:
        """Show ``name`` through ``apply`` (``keep_one``: as stored)."""
        if apply is keep_one:
            self.keep.add(name)
            self.fields.pop(name, None)
        elif apply is not None:
            self.fields[name] = apply
            self.keep.discard(name)


_NOT_PRIMITIVE = (dict, list)


def walk(node: Node, value: Any, ctx: Ctx, depth: int) -> dict[str, Any] | None:
    """``value`` as the node shows it; None when nothing is left (or it is not an object)."""
    if not isinstance(value, dict) or depth > MAX_DEPTH:
        return None
    out: dict[str, Any] = {}
    fields = node.fields
    keep = node.keep
    for key, item in value.items():
        if key in keep:
            if not isinstance(item, _NOT_PRIMITIVE) and item is not None:
                out[key] = item
            continue
        apply = fields.get(key)
        if apply is not None:
            shown = apply(item, value, ctx, depth)
            if shown is not None:
                out[key] = shown
    return out or None


# -- field builders -------------------------------------------------------------------------

Scalar = Callable[[Any, dict[str, Any], Ctx], Any]


def keep_field(many: bool) -> Field:
    """A primitive shown as stored (objects and arrays where a primitive belongs are dropped)."""
    if many:

        def keep_many(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
            if not isinstance(item, list):
                return None
            kept = [v for v in item if v is not None and not isinstance(v, dict | list)]
            return kept or None

        return keep_many

    return keep_one


def keep_one(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
    """A single primitive as stored (the walk inlines it; see Node.keep)."""
    return None if isinstance(item, _NOT_PRIMITIVE) else item


def scalar_field(fn: Scalar, many: bool) -> Field:
    """A primitive passed through ``fn``."""
    if many:

        def apply_many(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
            if not isinstance(item, list):
                return None
            kept = [
                r
                for r in (fn(v, parent, ctx) for v in item if not isinstance(v, dict | list))
                if r is not None
            ]
            return kept or None

        return apply_many

    def apply_one(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
        return None if isinstance(item, dict | list) else fn(item, parent, ctx)

    return apply_one


def node_field(node: Node, many: bool) -> Field:
    """A complex element shown through its own node."""
    if many:

        def walk_many(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
            if not isinstance(item, list):
                return None
            kept = [r for r in (walk(node, v, ctx, depth + 1) for v in item) if r is not None]
            return kept or None

        return walk_many

    def walk_one(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
        return walk(node, item, ctx, depth + 1)

    return walk_one


def primitive_element_field(node: Node, many: bool) -> Field:
    """``_name``: the id/extension part of a primitive, kept position by position in arrays."""
    if many:

        def walk_aligned(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
            if not isinstance(item, list):
                return None
            shown = [None if v is None else walk(node, v, ctx, depth + 1) for v in item]
            return shown if any(s is not None for s in shown) else None

        return walk_aligned
    return node_field(node, False)


def extensions_field(table: dict[str, Node]) -> Field:
    """``extension``: only extensions whose url the table names, each through its node."""

    def apply(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
        if not isinstance(item, list):
            return None
        kept = []
        for ext in item:
            url = ext.get("url") if isinstance(ext, dict) else None
            node = table.get(url) if isinstance(url, str) else None
            if node is None:
                continue
            shown = walk(node, ext, ctx, depth + 1)
            # ext-1: an extension has a value or sub-extensions, never just a url
            if shown is not None and len(shown) > (2 if "id" in shown else 1):
                kept.append(shown)
        return kept or None

    return apply


# -- transforms of primitives ---------------------------------------------------------------


def date_shift(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """By the patient's offset; kept where the resource is about no patient; dropped if unknown."""
    if not isinstance(value, str):
        return None
    if not ctx.linked:
        return value
    if ctx.days is None:
        return None
    return shift_date_value(value, ctx.days)


def year(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """A date generalised to its year."""
    return year_only(value) if isinstance(value, str) else None


def pseudonymise(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Identifier.value -> keyed token; the regional pseudonym is one already."""
    if not isinstance(value, str):
        return None
    system = parent.get("system")
    if system == REGIONAL_PSEUDONYM_SYSTEM:
        return value
    return ctx.secrets.token(str(system or ""), value)


def display(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Coding.display from the code system (present only when the system and code are known)."""
    system, code = parent.get("system"), parent.get("code")
    if not isinstance(system, str) or not isinstance(code, str):
        return None
    return ctx.lookups.displays.get(system, {}).get(code)


def ucum_unit(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Quantity.unit re-derived from a UCUM code (absent for other systems)."""
    code = parent.get("code")
    return code if parent.get("system") == UCUM and isinstance(code, str) else None


def encrypt_id(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Resource.id -> research id."""
    return ctx.secrets.research_id(ctx.rtype, value) if isinstance(value, str) else None


def relative(value: Any) -> str | None:
    """``value`` if it is a ``Type/id`` (or ``Type/id/_history/v``) reference, else None."""
    return value if isinstance(value, str) and _RELATIVE.match(value) else None


def relative_reference(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Only ``Type/id`` references to stored resources (no URLs, no conditional or # references)."""
    return relative(value)


def research_reference(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """``Type/id`` with the research id (versions dropped)."""
    match = _RELATIVE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return f"{match['type']}/{ctx.secrets.research_id(match['type'], match['id'])}"


def ig_profile(value: Any, parent: dict[str, Any], ctx: Ctx) -> Any:
    """Meta.profile: only the guide's own profiles."""
    if not isinstance(value, str):
        return None
    return value if value.split("|")[0] in ctx.lookups.profiles else None


SCALARS: dict[str, Scalar] = {
    "date-shift": date_shift,
    "year": year,
    "pseudonymise": pseudonymise,
    "display": display,
    "ucum-unit": ucum_unit,
    "encrypt-id": encrypt_id,
    "relative-reference": relative_reference,
    "research-reference": research_reference,
    "ig-profiles": ig_profile,
}


# -- transforms of whole elements -----------------------------------------------------------


def tags(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
    """Meta.tag: only the declared tags, as system and code."""
    if not isinstance(item, list):
        return None
    kept = []
    for coding in item:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        for allowed, codes in ctx.lookups.tags:
            if system == allowed and (codes is None or code in codes):
                kept.append({"system": system, "code": code})
                break
    return kept or None


def research_pseudonym_of(item: Any, parent: dict[str, Any], ctx: Ctx, depth: int) -> Any:
    """Patient.identifier -> the one research pseudonym derived from the regional pseudonym."""
    regional = regional_of(parent)
    if regional is None:
        return None
    token = research_pseudonym(regional, ctx.secrets.keys.research_key)
    return [{"system": RESEARCH_PSEUDONYM_SYSTEM, "value": token}]


def regional_of(patient: dict[str, Any]) -> str | None:
    """The regional pseudonym stored on a Patient, if it has one."""
    for ident in patient.get("identifier") or []:
        if (
            isinstance(ident, dict)
            and ident.get("system") == REGIONAL_PSEUDONYM_SYSTEM
            and isinstance(ident.get("value"), str)
        ):
            return str(ident["value"])
    return None


ELEMENT_TRANSFORMS: dict[str, Field] = {
    "tags": tags,
    "research-pseudonym": research_pseudonym_of,
}
