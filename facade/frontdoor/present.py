"""Shape HAPI's answers for the caller: tenancy filter, role view, facade URLs, audit entities."""

from __future__ import annotations

from typing import Any

from facade.audit.events import AuditContext
from facade.errors import NotFound
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.search import facade_page_link
from facade.frontdoor.tenancy import owner_of
from facade.privacy.projector import regional_of
from facade.privacy.walk import relative
from facade.security.roles import TENANT_TYPES, Role, View
from facade.security.tokens import Principal
from facade.upstream import UpstreamClient

_CHUNK = 50
# What a Bundle and its entries may carry besides resources and links (the rest is HAPI's own).
_BUNDLE_KEYS = ("resourceType", "id", "type", "total")
_SEARCH_KEYS = ("mode", "score")
_RESPONSE_KEYS = ("status", "etag", "lastModified")


def visible(principal: Principal, resource: dict[str, Any]) -> bool:
    """Whether a stored resource may be shown to the caller at all (hospital tenancy)."""
    if principal.role is not Role.HOSPITAL:
        return True
    if resource.get("resourceType") not in TENANT_TYPES:
        return True  # registry data (organisations, measures) and outcomes
    return owner_of(resource) == principal.org_code


async def _subjects(
    resources: list[dict[str, Any]], door: FrontDoor, upstream: UpstreamClient
) -> dict[str, str]:
    """Patient id -> date-shift subject for every patient the resources are about."""
    subjects: dict[str, str] = {}
    wanted: set[str] = set()
    for resource in resources:
        pid = door.projector.patient_id(resource)
        if pid is None:
            continue
        if resource.get("resourceType") == "Patient" and any(
            isinstance(i, dict) and i.get("system") == REGIONAL_PSEUDONYM_SYSTEM
            for i in resource.get("identifier") or []
        ):
            subjects[pid] = regional_of(resource) or f"Patient/{pid}"
            door.subjects.put(pid, subjects[pid])
            continue
        cached = door.subjects.get(pid)
        if cached is not None:
            subjects[pid] = cached
        else:
            wanted.add(pid)
    wanted -= set(subjects)
    ordered = sorted(wanted)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        page = await upstream.get_json(
            "Patient",
            {"_id": ",".join(chunk), "_count": str(len(chunk)), "_elements": "identifier"},
        )
        for item in page.get("entry", []):
            patient = item.get("resource") or {}
            pid = patient.get("id")
            if isinstance(pid, str):
                subjects[pid] = regional_of(patient) or f"Patient/{pid}"
                door.subjects.put(pid, subjects[pid])
    return subjects


def _note(ctx: AuditContext, door: FrontDoor, resource: dict[str, Any]) -> None:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str):
        ctx.touch(f"{rtype}/{rid}")
    pid = door.projector.patient_id(resource)
    if pid:
        ctx.touch_patient(f"Patient/{pid}")


async def show_resources(
    resources: list[dict[str, Any]],
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
) -> list[dict[str, Any] | None]:
    """The resources as the caller's view shows them (same order; None: the view shows nothing)."""
    view = principal.policy.view
    if view is View.STORED:
        return list(resources)
    subjects = await _subjects(resources, door, upstream) if view is View.DEIDENTIFIED else {}
    shown: list[dict[str, Any] | None] = []
    for resource in resources:
        pid = door.projector.patient_id(resource)
        shown.append(door.projector.project(view, resource, subjects.get(pid) if pid else None))
    return shown


async def present_resource(
    resource: dict[str, Any],
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
    ctx: AuditContext,
) -> dict[str, Any]:
    """One resource for the caller (the caller checked visibility)."""
    _note(ctx, door, resource)
    shown = (await show_resources([resource], principal, door, upstream))[0]
    if shown is None:
        raise NotFound(f"{resource.get('resourceType')} resources are not shown to this role")
    return shown


def _entry(
    entry: dict[str, Any], shown: dict[str, Any] | None, door: FrontDoor, view: View
) -> dict[str, Any] | None:
    """One Bundle entry in the caller's view: only the parts the view allows."""
    if view is View.STORED:
        rest = {k: v for k, v in entry.items() if k not in ("fullUrl", "resource")}
        if shown is None:
            return rest
        url = f"{door.fhir_base}/{shown.get('resourceType')}/{shown.get('id')}"
        return {"fullUrl": url, **rest, "resource": shown}
    if shown is None:
        return _deleted(entry) if view is View.PSEUDONYMISED else None
    item: dict[str, Any] = {
        "fullUrl": f"{door.fhir_base}/{shown.get('resourceType')}/{shown.get('id')}",
        "resource": shown,
    }
    search = entry.get("search")
    if isinstance(search, dict):
        kept = {k: search[k] for k in _SEARCH_KEYS if k in search}
        if kept:
            item["search"] = kept
    if view is View.PSEUDONYMISED:
        request, response = entry.get("request"), entry.get("response")
        if isinstance(request, dict) and isinstance(request.get("method"), str):
            url = f"{shown.get('resourceType')}/{shown.get('id')}"
            item["request"] = {"method": request["method"], "url": url}
        if isinstance(response, dict):
            item["response"] = {k: response[k] for k in _RESPONSE_KEYS if k in response}
    return item


def _deleted(entry: dict[str, Any]) -> dict[str, Any] | None:
    """A history entry of a deletion (no resource) for QC: the method, Type/id and response."""
    request, response = entry.get("request"), entry.get("response")
    if entry.get("resource") is not None or not isinstance(request, dict):
        return None  # an entry whose resource the view does not show
    url = relative(request.get("url"))
    if request.get("method") != "DELETE" or url is None:
        return None
    item: dict[str, Any] = {"request": {"method": "DELETE", "url": url}}
    if isinstance(response, dict):
        item["response"] = {k: response[k] for k in _RESPONSE_KEYS if k in response}
    return item


async def present_bundle(
    bundle: dict[str, Any],
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
    ctx: AuditContext,
    self_url: str,
) -> dict[str, Any]:
    """A search or history Bundle for the caller: filtered, viewed, with facade links."""
    entries = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource")
        if isinstance(resource, dict) and not visible(principal, resource):
            continue
        entries.append(entry)
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    for resource in resources:
        _note(ctx, door, resource)
    shown = iter(await show_resources(resources, principal, door, upstream))
    view = principal.policy.view
    out_entries = []
    for entry in entries:
        projected = next(shown) if isinstance(entry.get("resource"), dict) else None
        item = _entry(entry, projected, door, view)
        if item is not None:
            out_entries.append(item)
    if view is View.STORED:
        result = {k: v for k, v in bundle.items() if k not in ("entry", "link")}
    else:
        result = {k: bundle[k] for k in _BUNDLE_KEYS if k in bundle}
    links = [{"relation": "self", "url": self_url}]
    for link in bundle.get("link") or []:
        if link.get("relation") == "self":
            continue
        url = facade_page_link(door, principal, str(link.get("url", "")))
        if url:
            links.append({"relation": link.get("relation"), "url": url})
    result["link"] = links
    if out_entries:
        result["entry"] = out_entries
    return result
