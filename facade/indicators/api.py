"""HTTP API of the quality indicators: definitions, evaluation, published tables.

Callers authenticate like every FHIR client (SMART Backend Services token). The ``qc`` role sees
every hospital and the region; a ``hospital`` sees only itself — asking for another hospital is
403. Evaluating reads the whole region (post-discharge VTE may be reported by any hospital), but
a hospital's evaluation publishes only its own report. Every request, refused ones included, is
audited like a FHIR request (one AuditEvent, interaction ``read``, ``operation`` or ``search-type``).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from facade.api.deps import IndicatorsDep
from facade.audit.route import AuditedRoute, audit_context
from facade.indicators.periods import parse_period
from facade.indicators.service import visible_scope
from facade.security.deps import CurrentPrincipal, require

router = APIRouter(prefix="/indicators", route_class=AuditedRoute, tags=["quality indicators"])

PeriodQuery = Query(..., description="Reporting period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM.")
OrgQuery = Query(None, description="Institution code; omit for the region (QC only).")
RegionQuery = Query(
    None,
    description="Comma-separated institution codes forming the region (a sub-region, e.g. one city); "
    "omit for every hospital. Post-discharge VTE is looked up only within it.",
)


def _region(value: str | None) -> list[str] | None:
    codes = sorted({code.strip() for code in (value or "").split(",") if code.strip()})
    return codes or None


def _audit(request: Request, interaction: str, action: str, resource_type: str) -> None:
    ctx = audit_context(request)
    ctx.interaction, ctx.action, ctx.resource_type = interaction, action, resource_type


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get("/definitions", summary="The indicator definitions in force")
async def definitions(
    request: Request, principal: CurrentPrincipal, indicators: IndicatorsDep
) -> Response:
    """Every indicator with its populations, in both languages."""
    _audit(request, "read", "R", "Measure")
    visible_scope(principal.role.value, principal.org_code, None)
    loaded = indicators.catalog.definitions
    return _json(
        {
            "indicators": [
                i.model_dump(mode="json", by_alias=True) for i in loaded.indicators.values()
            ],
            "rules": loaded.rules.model_dump(mode="json", by_alias=True),
        }
    )


@router.post("/$evaluate", summary="Compute the indicators of a period and publish MeasureReports")
async def evaluate(
    request: Request,
    principal: CurrentPrincipal,
    indicators: IndicatorsDep,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
    region: str | None = RegionQuery,
) -> Response:
    """Evaluate over the region; publish the caller's scope (QC without ``org``: the region and
    every hospital in it)."""
    _audit(request, "operation", "E", "MeasureReport")
    require(principal, "MeasureReport", "s")
    scope = visible_scope(principal.role.value, principal.org_code, org)
    parse_period(period, indicators.catalog.definitions.rules.tz)
    _, tables = await indicators.evaluate_and_publish(
        period,
        region=_region(region),
        publish=None if scope is None else [scope],
    )
    return _json({"tables": [t.as_dict() for t in tables.values()]})


@router.get("", summary="Published indicators of a period")
async def published(
    request: Request,
    principal: CurrentPrincipal,
    indicators: IndicatorsDep,
    period: str = PeriodQuery,
    org: str | None = OrgQuery,
    region: str | None = RegionQuery,
) -> Response:
    """The MeasureReports published for the scope, as a table."""
    _audit(request, "search-type", "E", "MeasureReport")
    require(principal, "MeasureReport", "r")
    scope = visible_scope(principal.role.value, principal.org_code, org)
    table = await indicators.read_published(period, scope, region=_region(region))
    return _json(table.as_dict())
