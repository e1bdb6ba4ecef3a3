"""Typed dependencies: how a route reaches a service built by ``facade.services.build_services``.

A route names what it needs in its signature, e.g. ``upstream: UpstreamDep, audit: AuditDep``;
``ServicesDep`` is the whole container for routes that need several. The caller of a FHIR
request is ``facade.security.deps.CurrentPrincipal``. A new service gets its alias here with
``Annotated[Type, Depends(service(lambda s: s.field))]``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from facade.audit.log import AuditLog
from facade.db import Database
from facade.frontdoor.context import FrontDoor
from facade.indicators.service import IndicatorService
from facade.native.gateway import Gateway
from facade.quality.service import QualityService
from facade.security.callers import CallerCheck
from facade.security.tokens import TokenService
from facade.services import Services, services_of
from facade.settings import Settings
from facade.submissions.service import Submissions
from facade.upstream import UpstreamClient

T = TypeVar("T")


def service(pick: Callable[[Services], T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A dependency answering one service of the app the request reached."""

    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per
    # dependency per request for what is an attribute read.
    async def dependency(request: Request) -> T:
        return pick(services_of(request.app))

    return dependency


ServicesDep = Annotated[Services, Depends(service(lambda s: s))]
SettingsDep = Annotated[Settings, Depends(service(lambda s: s.settings))]
DatabaseDep = Annotated[Database, Depends(service(lambda s: s.database))]
UpstreamDep = Annotated[UpstreamClient, Depends(service(lambda s: s.upstream))]
TokensDep = Annotated[TokenService, Depends(service(lambda s: s.tokens))]
CallersDep = Annotated[CallerCheck, Depends(service(lambda s: s.callers))]
AuditDep = Annotated[AuditLog, Depends(service(lambda s: s.audit))]
GatewayDep = Annotated[Gateway, Depends(service(lambda s: s.gateway))]
FrontDoorDep = Annotated[FrontDoor, Depends(service(lambda s: s.frontdoor))]
IndicatorsDep = Annotated[IndicatorService, Depends(service(lambda s: s.indicators))]
SubmissionsDep = Annotated[Submissions, Depends(service(lambda s: s.submissions))]
QualityDep = Annotated[QualityService, Depends(service(lambda s: s.quality))]
