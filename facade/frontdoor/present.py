"""Shape HAPI's answers for the caller: tenancy filter, role view, facade URLs, audit entities."""

from __future__ import annotations

from typing import Any

from facade.audit.events import AuditContext
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.search import facade_page_link
from facade.frontdoor.tenancy import owner_of
from facade.privacy.deidentify import regional_of
from facade.security.roles import TENANT_TYPES, Role, View
from facade.security.tokens import Principal
from facade.upstream import UpstreamClient

_CHUNK = 50


def patient_id_of(resource: dict[str, Any]) -> str | None:
    """The id of the patient a resource is about (itself for a Patient), if it says so."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) else None
    for key in ("subject", "patient"):
        ref = (
            (resource.get(key) or {}).get("reference")
            if isinstance(resource.get(key), dict)
            else None
        )
        if isinstance(ref, str) and ref.startswith("Patient/"):
            return ref.split("/")[1]
    return None


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
        pid = patient_id_of(resource)
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


def _note(ctx: AuditContext, resource: dict[str, Any]) -> None:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str):
        ctx.touch(f"{rtype}/{rid}")
    pid = patient_id_of(resource)
    if pid:
        ctx.touch_patient(f"Patient/{pid}")


async def show_resources(
    resources: list[dict[str, Any]],
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
) -> list[dict[str, Any]]:
    """The resources as the caller's view shows them (same order)."""
    view = principal.policy.view
    viewer = door.viewers[view]
    if view is View.STORED:
        return resources
    subjects = await _subjects(resources, door, upstream) if view is View.DEIDENTIFIED else {}
    shown = []
    for resource in resources:
        pid = patient_id_of(resource)
        shown.append(viewer.resource(resource, subjects.get(pid) if pid else None))
    return shown


async def present_resource(
    resource: dict[str, Any],
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
    ctx: AuditContext,
) -> dict[str, Any]:
    """One resource for the caller (the caller checked visibility)."""
    _note(ctx, resource)
    return (await show_resources([resource], principal, door, upstream))[0]


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
        _note(ctx, resource)
    shown = iter(await show_resources(resources, principal, door, upstream))
    out_entries = []
    for entry in entries:
        item = {k: v for k, v in entry.items() if k not in ("fullUrl", "resource")}
        if isinstance(entry.get("resource"), dict):
            resource = next(shown)
            item = {
                "fullUrl": f"{door.fhir_base}/{resource.get('resourceType')}/{resource.get('id')}",
                **item,
            }
            item["resource"] = resource
        if principal.policy.view is View.DEIDENTIFIED:
            item.pop("request", None)
            item.pop("response", None)
        out_entries.append(item)
    result = {k: v for k, v in bundle.items() if k not in ("entry", "link")}
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
