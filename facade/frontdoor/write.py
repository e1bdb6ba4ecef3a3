"""The write side of the FHIR door: transaction/batch Bundles and single creates/updates from hospitals."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from facade.api.deps import FrontDoorDep, UpstreamDep
from facade.api.responses import FhirResponse, fhir_router
from facade.audit.events import AuditContext
from facade.audit.route import AuditedRoute, audit_context
from facade.errors import Forbidden, InvalidInput, Issue, PayloadTooLarge, UpstreamRejected
from facade.fhir.outcome import outcome
from facade.frontdoor.context import FrontDoor
from facade.frontdoor.entries import WriteEntry, parse_bundle
from facade.frontdoor.intake import IntakeChecker
from facade.frontdoor.limits import check_limits, entry_of, parse_json
from facade.frontdoor.locate import locate_rejection
from facade.frontdoor.tenancy import verify_ownership
from facade.security.deps import CurrentPrincipal
from facade.security.tokens import Principal
from facade.upstream import UpstreamClient

router = fhir_router(route_class=AuditedRoute)

_STATUS_TEXT = {400: "400 Bad Request", 403: "403 Forbidden"}


async def _json_body(request: Request, door: FrontDoor, root: str) -> tuple[Any, list[Issue]]:
    """The parsed body and the intake limits it breaks (facade/frontdoor/limits.py)."""
    limit = door.settings.fhir_max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    parsed = parse_json(body)
    return parsed, check_limits(parsed, root, door.limits)


def _refuse_over_limit(issues: list[Issue]) -> None:
    if issues:
        raise InvalidInput("request refused: " + issues[0].message, issues=issues)


async def _checked(
    entries: list[WriteEntry], principal: Principal, door: FrontDoor, upstream: UpstreamClient
) -> None:
    checker = IntakeChecker(principal, door.pseudonym_key, door.fhir_base)
    checker.check_all(entries)
    if door.linkage is not None and checker.identities:
        linkage = door.linkage
        await run_in_threadpool(
            linkage.remember, [linkage.pair(t, n, r) for r, t, n in checker.identities]
        )
        checker.identities.clear()
    await verify_ownership(upstream, checker.ownership, principal.org_code)


def _raise_for(entries: list[WriteEntry]) -> None:
    """Refuse the whole request when any entry has an issue (403 if any is a permission problem)."""
    issues = [issue for entry in entries for issue in entry.issues]
    if not issues:
        return
    if any(entry.forbidden for entry in entries):
        raise Forbidden("write refused: " + issues[0].message, issues=issues)
    raise InvalidInput("write refused: " + issues[0].message, issues=issues)


def upstream_bundle(bundle_type: str, entries: list[WriteEntry]) -> dict[str, Any]:
    """The Bundle the door sends HAPI for checked ``entries`` (the ingest benchmark posts the
    very same Bundle straight to HAPI as its baseline)."""
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [_request_entry(e) for e in entries],
    }


def _request_entry(entry: WriteEntry) -> dict[str, Any]:
    request: dict[str, Any] = {"method": entry.method, "url": entry.url}
    if entry.if_none_exist:
        request["ifNoneExist"] = entry.if_none_exist
    item: dict[str, Any] = {"resource": entry.resource, "request": request}
    if entry.full_url:
        item["fullUrl"] = entry.full_url
    return item


def _note_written(ctx: AuditContext, answer: dict[str, Any]) -> None:
    for item in answer.get("entry") or []:
        location = str((item.get("response") or {}).get("location") or "")
        parts = location.split("/_history")[0].split("/")
        if len(parts) >= 2:
            ctx.touch(f"{parts[-2]}/{parts[-1]}")
            if parts[-2] == "Patient":
                ctx.touch_patient(f"Patient/{parts[-1]}")


@router.post("")
async def transaction_or_batch(
    request: Request, principal: CurrentPrincipal, door: FrontDoorDep, upstream: UpstreamDep
) -> FhirResponse:
    """POST a transaction (all or nothing) or batch (entry by entry) Bundle."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "transaction", "C"
    if not principal.policy.write:
        raise Forbidden(f"role {principal.role.value} may not write")
    body, over_limit = await _json_body(request, door, "Bundle")
    located = [(entry_of(issue.location), issue) for issue in over_limit]
    _refuse_over_limit([issue for index, issue in located if index is None])
    bundle_type, entries = parse_bundle(body, door.settings.fhir_max_bundle_entries)
    for index, issue in located:  # an entry over a limit is refused on its own
        if index is not None:
            entries[index].issues.append(issue)
    ctx.interaction = bundle_type
    if any(e.method == "PUT" for e in entries):
        ctx.action = "U"
    await _checked(entries, principal, door, upstream)
    if bundle_type == "transaction":
        _raise_for(entries)
        try:
            answer = await upstream.transaction(upstream_bundle("transaction", entries))
        except UpstreamRejected as exc:
            issues = await locate_rejection(upstream, entries, exc)
            raise UpstreamRejected(
                "transaction rejected: " + (issues[0].message if issues else exc.message),
                upstream_status=exc.upstream_status,
                issues=issues,
            ) from exc
        _note_written(ctx, answer)
        return FhirResponse(upstream.address.scrub(answer))
    return FhirResponse(upstream.address.scrub(await _batch(entries, upstream, ctx)))


async def _batch(
    entries: list[WriteEntry], upstream: UpstreamClient, ctx: AuditContext
) -> dict[str, Any]:
    good = [e for e in entries if not e.issues]
    answers: dict[int, dict[str, Any]] = {}
    if good:
        answer = await upstream.transaction(upstream_bundle("batch", good))
        _note_written(ctx, answer)
        for entry, item in zip(good, answer.get("entry") or [], strict=False):
            answers[entry.index or 0] = item
    response_entries = []
    for entry in entries:
        if entry.issues:
            status = 403 if entry.forbidden else 400
            response_entries.append(
                {
                    "response": {
                        "status": _STATUS_TEXT[status],
                        "outcome": outcome("entry refused", issues=entry.issues),
                    }
                }
            )
        else:
            response_entries.append(
                answers.get(entry.index or 0, {"response": {"status": "500 Internal Server Error"}})
            )
    if any(e.issues for e in entries):
        ctx.detail = (
            f"{sum(1 for e in entries if e.issues)} of {len(entries)} batch entries refused"
        )
    return {"resourceType": "Bundle", "type": "batch-response", "entry": response_entries}


async def _single(
    request: Request,
    rtype: str,
    method: str,
    url: str,
    principal: Principal,
    door: FrontDoor,
    upstream: UpstreamClient,
) -> Response:
    ctx = audit_context(request)
    ctx.resource_type = rtype
    if not principal.policy.write:
        raise Forbidden(f"role {principal.role.value} may not write")
    body, over_limit = await _json_body(request, door, rtype)
    _refuse_over_limit(over_limit)
    if not isinstance(body, dict):
        raise InvalidInput(
            "body must be a FHIR resource",
            issues=[Issue(rtype, "resource", "body must be a JSON object")],
        )
    if body.get("resourceType") != rtype:
        raise InvalidInput(
            "resource type mismatch",
            issues=[Issue(f"{rtype}.resourceType", "type-matches-url", f"body must be a {rtype}")],
        )
    entry = WriteEntry(
        index=None,
        method=method,
        url=url,
        resource=body,
        if_none_exist=request.headers.get("If-None-Exist"),
    )
    await _checked([entry], principal, door, upstream)
    _raise_for([entry])
    headers = {"If-None-Exist": entry.if_none_exist} if entry.if_none_exist else {}
    for name in ("Prefer", "If-Match"):
        if request.headers.get(name):
            headers[name] = request.headers[name]
    answer = await upstream.request(method, entry.url, json=entry.resource, headers=headers)
    out_headers = {}
    location = answer.headers.get("Location") or answer.headers.get("Content-Location")
    if location:
        public = upstream.address.location(location)
        out_headers["Location"] = public
        parts = public.removeprefix(door.fhir_base + "/").split("/_history")[0].split("/")
        if len(parts) == 2:
            ctx.touch(f"{parts[0]}/{parts[1]}")
    if answer.headers.get("ETag"):
        out_headers["ETag"] = answer.headers["ETag"]
    return Response(
        upstream.address.scrub_bytes(answer.content),
        status_code=answer.status_code,
        headers=out_headers,
        media_type=answer.headers.get("Content-Type", "application/fhir+json"),
    )


@router.post("/{rtype:fhirtype}")
async def create(
    rtype: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> Response:
    """Create one resource (conditional with If-None-Exist)."""
    audit_context(request).interaction, audit_context(request).action = "create", "C"
    return await _single(request, rtype, "POST", rtype, principal, door, upstream)


@router.put("/{rtype:fhirtype}/{rid:fhirid}")
async def update(
    rtype: str,
    rid: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> Response:
    """Update (or create under a chosen id) one resource."""
    audit_context(request).interaction, audit_context(request).action = "update", "U"
    return await _single(request, rtype, "PUT", f"{rtype}/{rid}", principal, door, upstream)


@router.put("/{rtype:fhirtype}")
async def conditional_update(
    rtype: str,
    request: Request,
    principal: CurrentPrincipal,
    door: FrontDoorDep,
    upstream: UpstreamDep,
) -> Response:
    """Update the one resource matching the query (create it when none matches)."""
    audit_context(request).interaction, audit_context(request).action = "update", "U"
    if not request.url.query:
        raise InvalidInput(
            "conditional update needs criteria",
            issues=[Issue("url", "request-url", "PUT /fhir/Type needs ?criteria")],
        )
    return await _single(
        request, rtype, "PUT", f"{rtype}?{request.url.query}", principal, door, upstream
    )
