"""The FHIR-side error boundary: every failure leaves as an OperationOutcome with a fitting status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from facade.api.responses import FhirResponse
from facade.errors import FacadeError, Issue, http_status_of
from facade.fhir.outcome import outcome, outcome_for_error

log = logging.getLogger(__name__)

_STATUS_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into OperationOutcome responses."""

    @app.exception_handler(FacadeError)
    async def _facade_error(_request: Request, exc: FacadeError) -> FhirResponse:
        status = http_status_of(exc)
        if status >= 500:
            log.warning("request failed: %s", exc.message, extra={"error": type(exc).__name__})
        return FhirResponse(outcome_for_error(exc), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> FhirResponse:
        issues = [
            Issue(".".join(str(p) for p in err["loc"]), "request", str(err["msg"]))
            for err in exc.errors()
        ]
        body = outcome("invalid request", code="invalid", issues=issues)
        return FhirResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> FhirResponse:
        code = _STATUS_CODES.get(exc.status_code, "processing")
        body = outcome(str(exc.detail), code=code)
        return FhirResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> FhirResponse:
        log.exception("unhandled error")
        body = outcome("internal error; the request id in the logs identifies it", code="exception")
        return FhirResponse(body, status_code=500)
