"""Search parameters by role: the hospital tag filter, identity-number translation, and the narrow
research allow-list (no date parameters: a date search on real dates would reveal the offsets).

A research search may only test elements the research view shows (mappings/views): otherwise
the result count would reveal what the view hides. tests/frontdoor/test_frontdoor_search.py
checks every parameter below against the R4 SearchParameter definitions and the view data.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit

from facade.errors import Forbidden, InvalidInput, Issue
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.frontdoor.context import FrontDoor
from facade.privacy.identity import contains_resident_id, pseudonymise_token
from facade.security.roles import TENANT_TYPES, Role
from facade.security.tokens import Principal

# Never forwarded: we always answer JSON, and paging ids only arrive through /fhir page links.
_DROPPED = frozenset({"_format", "_pretty", "_totalMethod"})  # _totalMethod: fhirpy (Aidbox) only
_RESERVED = frozenset({"_getpages", "_getpagesoffset", "_bundletype", "_page"})

# The research allow-list: parameter -> kind. References and _id carry research ids.
RESEARCH_PARAMS: dict[str, str] = {
    "_count": "control",
    "_summary": "summary",
    "_elements": "control",
    "_include": "control",
    "_revinclude": "control",
    "_total": "control",
    "_id": "id",
    "_tag": "token",
    "subject": "reference",
    "patient": "reference",
    "encounter": "reference",
    "code": "token",
    "category": "token",
    "status": "token",
    "gender": "token",
    "class": "token",
    "type": "token",
    "clinical-status": "token",
    "verification-status": "token",
    "method": "token",
    "value-quantity": "quantity",
    "probability": "quantity",
}
_RESEARCH_MODIFIERS = frozenset({"missing", "not", "exact"})
# Parameters whose element some type's research view drops: refused on that type.
RESEARCH_HIDDEN_ON: dict[str, frozenset[str]] = {
    "subject": frozenset({"MeasureReport"}),
    "patient": frozenset({"MeasureReport"}),
}
# Reference parameters _include/_revinclude may follow for research (shown in every view).
RESEARCH_INCLUDES = frozenset({"subject", "patient", "encounter", "context", "service-provider"})
_REFERENCE_TARGET = {"subject": "Patient", "patient": "Patient", "encounter": "Encounter"}
_SUMMARY_VALUES = frozenset({"count", "true", "false", "data"})
# Elements the research view needs to find a resource's patient (added to any _elements).
_RESEARCH_ELEMENTS = ("subject", "patient", "identifier")


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, issues=[Issue(name, "search-parameter", message)])


def prepare_search(
    principal: Principal, rtype: str, params: list[tuple[str, str]], door: FrontDoor
) -> list[tuple[str, str]]:
    """The parameters to send to HAPI for this caller's search of ``rtype``."""
    out: list[tuple[str, str]] = []
    research = principal.policy.view.value == "deidentified"
    for name, value in params:
        if name in _DROPPED:
            continue
        if name in _RESERVED:
            raise _bad(
                name, f"{name} is not a search parameter here; follow the Bundle's next link"
            )
        if research:
            out.append(_research_param(name, value, rtype, door))
        else:
            out.append((name, _translate_identity(name, value, door)))
    if principal.role is Role.HOSPITAL and rtype in TENANT_TYPES:
        out.append(("_tag", f"{REPORTING_ORG_TAG}|{principal.org_code}"))
    if research:
        out = [(n, _with_research_elements(v)) if n == "_elements" else (n, v) for n, v in out]
    return out


def _translate_identity(name: str, value: str, door: FrontDoor) -> str:
    """identifier=<resident-id system>|<number> searches by the number's regional pseudonym."""
    if name.split(":")[0].split(".")[-1] == "identifier":
        parts = []
        for token in value.split(","):
            system, bar, number = token.partition("|")
            parts.append(
                (pseudonymise_token(system, number, door.pseudonym_key) if bar else None) or token
            )
        value = ",".join(parts)
    if contains_resident_id(value):
        raise _bad(
            name,
            "identity numbers can only be searched as identifier=urn:oid:2.16.156.10011.1.3|<number>",
        )
    return value


def _research_param(name: str, value: str, rtype: str, door: FrontDoor) -> tuple[str, str]:
    base, _, modifier = name.partition(":")
    kind = RESEARCH_PARAMS.get(base)
    if kind is None or "." in name or rtype in RESEARCH_HIDDEN_ON.get(base, ()):
        raise Forbidden(f"search parameter {name} is not available for research access")
    if base == "_tag" and not all(v.startswith(f"{REPORTING_ORG_TAG}|") for v in value.split(",")):
        raise Forbidden("research can only search by the reporting-organisation tag")
    if base in ("_include", "_revinclude") and not _research_include(value):
        raise Forbidden(
            f"{name}={value} is not available for research access; follow one of "
            f"{', '.join(sorted(RESEARCH_INCLUDES))}"
        )
    if (
        modifier
        and modifier not in _RESEARCH_MODIFIERS
        and not (kind == "reference" and modifier[:1].isupper())
    ):
        raise Forbidden(f"modifier :{modifier} is not available for research access")
    if kind == "summary" and value not in _SUMMARY_VALUES:
        raise _bad(name, "_summary must be count, true, false or data")
    if kind == "id":
        return name, ",".join(_real_id(rtype, v, name, door) for v in value.split(","))
    if kind == "reference" and modifier != "missing":
        target = modifier if modifier[:1].isupper() else _REFERENCE_TARGET.get(base, "Patient")
        values = []
        for item in value.split(","):
            if "/" in item:
                ref_type, _, rid = item.partition("/")
                values.append(f"{ref_type}/{_real_id(ref_type, rid, name, door)}")
            else:
                values.append(_real_id(target, item, name, door))
        return name, ",".join(values)
    return name, value


def _research_include(value: str) -> bool:
    """``Type:param[:Target]`` along a reference the research view shows (no ``*``)."""
    parts = value.split(":")
    return len(parts) in (2, 3) and parts[0][:1].isupper() and parts[1] in RESEARCH_INCLUDES


def _real_id(rtype: str, research_id: str, name: str, door: FrontDoor) -> str:
    real = door.research_ids.decode(rtype, research_id)
    if real is None:
        raise _bad(name, f"{research_id!r} is not a research id of a {rtype}")
    return real


def _with_research_elements(value: str) -> str:
    wanted = [v for v in value.split(",") if v]
    return ",".join(wanted + [e for e in _RESEARCH_ELEMENTS if e not in wanted])


def page_params(url: str) -> list[tuple[str, str]]:
    """Query parameters of an upstream paging link."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def facade_page_link(door: FrontDoor, principal: Principal, upstream_url: str) -> str | None:
    """The facade URL of an upstream paging link, signed for this client (None: not a paging link)."""
    params = [(k, v) for k, v in page_params(upstream_url) if k not in _DROPPED and k != "_page"]
    page_id = next((v for k, v in params if k == "_getpages"), None)
    if page_id is None:
        return None
    params.append(("_page", door.page_signature(principal.client_id, page_id)))
    return f"{door.fhir_base}?{urlencode(params, safe='|:/,')}"


def continuation_params(
    door: FrontDoor, principal: Principal, params: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Check a page request's signature and return what HAPI needs to serve the page."""
    page_id = next((v for k, v in params if k == "_getpages"), "")
    signature = next((v for k, v in params if k == "_page"), "")
    if not page_id or not hmac.compare_digest(
        signature, door.page_signature(principal.client_id, page_id)
    ):
        raise Forbidden("this page link was not issued to this client")
    return [
        (k, v) for k, v in params if k in ("_getpages", "_getpagesoffset", "_count", "_bundletype")
    ]
