"""Audit (auditor): search the audit store by who, what, when and outcome; export.

The form's fields become the FHIR door's AuditEvent search parameters (facade/audit/search.py);
every answered request's event is committed before its answer left, so a search sees everything
recorded up to the moment it was asked (including the auditor's own earlier page views).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from facade.audit.log import AuditLog
from facade.audit.route import audit_context
from facade.audit.search import parse_search
from facade.console.deps import Auditor, Services
from facade.console.grid import Grid, to_xlsx
from facade.console.i18n import Translator
from facade.console.route import ConsoleRoute
from facade.console.web import attachment, render, texts
from facade.errors import InvalidInput, Issue
from facade.indicators.service import catalog
from facade.services import services_of

router = APIRouter(prefix="/console/audit", route_class=ConsoleRoute, include_in_schema=False)
OUTCOMES = ("0", "4", "8", "12")
ACTIONS = (
    "read",
    "search-type",
    "create",
    "update",
    "delete",
    "operation",
    "login",
    "logout",
    "token",
)


def _criteria(request: Request, tz: Any) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The form's values and the AuditEvent search parameters they mean."""
    q = request.query_params
    form = {
        k: (q.get(k) or "").strip() for k in ("who", "what", "entity", "since", "until", "outcome")
    }
    params: list[tuple[str, str]] = [("_sort", "-date")]
    problems = []
    if form["who"]:
        params.append(("altid", form["who"]))
    if form["what"]:
        if form["what"] not in ACTIONS:
            problems.append(Issue("what", "choice", ", ".join(ACTIONS)))
        params.append(("subtype", form["what"]))
    if form["entity"]:
        params.append(("entity-name", form["entity"]))
    for name, prefix, extra in (("since", "ge", 0), ("until", "lt", 1)):
        if not form[name]:
            continue
        try:
            day = datetime.strptime(form[name], "%Y-%m-%d").replace(tzinfo=tz) + timedelta(
                days=extra
            )
        except ValueError:
            problems.append(Issue(name, "date", "YYYY-MM-DD"))
            continue
        params.append(("date", prefix + day.isoformat(timespec="seconds")))
    if form["outcome"]:
        if form["outcome"] not in OUTCOMES:
            problems.append(Issue("outcome", "choice", ", ".join(OUTCOMES)))
        params.append(("outcome", form["outcome"]))
    if problems:
        raise InvalidInput("search refused", issues=problems)
    return form, params


def _search(
    log: AuditLog, params: list[tuple[str, str]], limit: int, tz: Any
) -> list[dict[str, Any]]:
    """Up to ``limit`` events matching the form, newest first, page after page."""
    query, _ = parse_search([*params, ("_count", str(min(limit, 500)))], tz)
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        page = log.search(query)
        found.extend(orjson.loads(body) for _, body in page.events)
        if page.next is None:
            break
        query.cursor = page.next
    return found[:limit]


def _who(event: dict[str, Any]) -> tuple[str, str, str]:
    agents = event.get("agent") or []
    first = agents[0] if agents else {}
    role = ""
    for item in first.get("role") or []:
        role = next((c.get("code", "") for c in item.get("coding") or []), "")
    org = ""
    for agent in agents[1:]:
        org = ((agent.get("who") or {}).get("identifier") or {}).get("value", "") or org
    return str(first.get("altId") or ""), role, org


def _query_text(entity: dict[str, Any]) -> str:
    try:
        return base64.b64decode(entity["query"]).decode("utf-8")
    except (ValueError, KeyError):
        return ""


def grid(events: list[dict[str, Any]], t: Translator, tz: Any) -> Grid:
    """Found events as a table."""
    out = Grid(
        "events",
        t("audit.results"),
        [
            t("audit.recorded"),
            t("audit.who"),
            t("audit.role"),
            t("audit.org"),
            t("audit.what"),
            t("audit.entities"),
            t("audit.outcome"),
            t("audit.detail"),
            t("audit.address"),
            "id",
        ],
    )
    for event in events:
        who, role, org = _who(event)
        subtype = next((c.get("code", "") for c in event.get("subtype") or []), "")
        names = [
            e["name"] for e in event.get("entity") or [] if e.get("name") and "detail" not in e
        ]
        queries = [_query_text(e) for e in event.get("entity") or [] if "query" in e]
        recorded = datetime.fromisoformat(str(event.get("recorded", "")).replace("Z", "+00:00"))
        address = ((event.get("agent") or [{}])[0].get("network") or {}).get("address", "")
        out.add(
            recorded.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            who,
            role,
            org,
            subtype,
            "; ".join([*names, *queries])[:300],
            t(f"audit.outcome_{event.get('outcome', '0')}"),
            str(event.get("outcomeDesc", ""))[:200],
            address,
            str(event.get("id", "")),
        )
    return out


async def _events(
    request: Request, services: Services, limit: int
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    tz = catalog(services.settings).definitions.rules.tz
    form, params = _criteria(request, tz)
    ctx = audit_context(request)
    ctx.interaction, ctx.resource_type = "search-type", "AuditEvent"
    log = services_of(request.app).audit
    return form, await asyncio.to_thread(_search, log, params, limit, tz)


@router.get("")
async def audit(request: Request, user: Auditor, services: Services) -> Response:
    """The search form and, once asked, the events found (newest first)."""
    searched = bool(request.query_params)
    tz = catalog(services.settings).definitions.rules.tz
    form: dict[str, str] = {k: "" for k in ("who", "what", "entity", "since", "until", "outcome")}
    found = None
    if searched:
        form, events = await _events(request, services, 200)
        found = grid(events, texts(request), tz)
    else:
        audit_context(request).interaction = "read"
    return render(
        request,
        "audit.html",
        form=form,
        found=found,
        actions=ACTIONS,
        outcomes=OUTCOMES,
        store=await asyncio.to_thread(services_of(request.app).audit.status),
        query=request.url.query,
    )


@router.get("/export")
async def export(request: Request, user: Auditor, services: Services) -> Response:
    """The search's events as an Excel workbook (up to the configured row limit)."""
    _, events = await _events(request, services, services.settings.console_max_rows)
    audit_context(request).extra["export"] = "events"
    tz = catalog(services.settings).definitions.rules.tz
    return attachment(to_xlsx(grid(events, texts(request), tz)), "audit-events.xlsx")
