"""AuditedRoute: a FastAPI route class that records one AuditEvent per request, refusals included.

The handler (and its dependencies) fill ``request.state.audit`` (an AuditContext) with who, what
and which resources; the route records it with the final status before the response leaves, so
the event is queued (or, outside a running app, written) before the response leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from facade.api.responses import FhirResponse
from facade.audit.events import AuditContext
from facade.errors import FacadeError, Forbidden, NotAuthenticated, http_status_of
from facade.fhir.outcome import outcome_for_error
from facade.logs import request_id
from facade.services import services_of


def audit_context(request: Request) -> AuditContext:
    """The AuditContext of the current request (a detached one outside audited routes)."""
    ctx = getattr(request.state, "audit", None)
    if isinstance(ctx, AuditContext):
        return ctx
    ctx = AuditContext(door="fhir", method=request.method, path=request.url.path)
    request.state.audit = ctx
    return ctx


def error_response(exc: FacadeError) -> FhirResponse:
    """The OperationOutcome answer for a FacadeError, with RFC 6750 headers on auth failures."""
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(exc, Forbidden) and "scope" in exc.message:
        headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return FhirResponse(outcome_for_error(exc), status_code=http_status_of(exc), headers=headers)


class AuditedRoute(APIRoute):
    """Route class of the FHIR door; subclasses set ``door``."""

    door: ClassVar[str] = "fhir"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.audited(super().get_route_handler())

    def render_error(self, request: Request, exc: FacadeError) -> Response:
        """The answer to a refused or failed request (an OperationOutcome on the FHIR door)."""
        return error_response(exc)

    def audited(
        self, original: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """``original`` wrapped so that every call, refused ones included, is one AuditEvent."""
        door = self.door

        async def handler(request: Request) -> Response:
            ctx = AuditContext(
                door=door,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                remote_addr=request.client.host if request.client else None,
                request_id=request_id.get(),
            )
            ctx.extra["requestId"] = ctx.request_id or "-"
            request.state.audit = ctx
            log = services_of(request.app).audit
            try:
                response = await original(request)
                status = response.status_code
            except FacadeError as exc:
                ctx.detail = ctx.detail or exc.message[:200]
                response = self.render_error(request, exc)
                status = http_status_of(exc)
            except (RequestValidationError, HTTPException) as exc:
                status = 400 if isinstance(exc, RequestValidationError) else exc.status_code
                await log.record_async(ctx, status)
                raise
            except Exception:
                ctx.detail = ctx.detail or "internal error"
                await log.record_async(ctx, 500)
                raise
            await log.record_async(ctx, status)
            return response

        return handler


class AuditedAuthRoute(AuditedRoute):
    """Route class of the token endpoint (audited as authentication events)."""

    door: ClassVar[str] = "auth"
