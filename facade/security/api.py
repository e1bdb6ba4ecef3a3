"""The authorisation server for systems: POST /auth/token and the SMART configuration document."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from facade.api.deps import CallersDep, TokensDep
from facade.audit.route import AuditedAuthRoute, audit_context
from facade.security.jwks import ALGORITHMS
from facade.security.tokens import (
    ASSERTION_TYPE,
    GRANT_TYPE,
    TOKEN_PATH,
    OAuthError,
    TokenService,
)

router = APIRouter(route_class=AuditedAuthRoute, tags=["auth"])
discovery = APIRouter(tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_FORM_BYTES = 64 * 1024


def _oauth_error(exc: OAuthError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=_NO_STORE,
    )


async def _form(request: Request) -> dict[str, str]:
    if (
        request.headers.get("content-type", "").split(";")[0].strip()
        != "application/x-www-form-urlencoded"
    ):
        raise OAuthError(
            "invalid_request", "the token request must be application/x-www-form-urlencoded"
        )
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "token request too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "token request is not UTF-8") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters must not repeat
            raise OAuthError("invalid_request", f"parameter {name} is repeated")
        form[name] = value
    return form


@router.post(TOKEN_PATH, response_model=None)
async def token(request: Request, callers: CallersDep) -> JSONResponse:
    """SMART Backend Services token endpoint (client_credentials + private_key_jwt assertion)."""
    ctx = audit_context(request)
    ctx.interaction, ctx.action = "token", "E"
    try:
        form = await _form(request)
        if form.get("grant_type") != GRANT_TYPE:
            raise OAuthError("unsupported_grant_type", f"grant_type must be {GRANT_TYPE}")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise OAuthError("invalid_request", "client_assertion is required")
        scope = form.get("scope", "").strip()
        if not scope:
            raise OAuthError("invalid_scope", "scope is required")
        client = await run_in_threadpool(callers.token_client, assertion)
        ctx.client_id, ctx.client_name = client.client_id, client.name
        ctx.role, ctx.org_code, ctx.authenticated = client.role.value, client.org_code, True
        answer = callers.tokens.issue(client, scope)
    except OAuthError as exc:
        ctx.client_id = ctx.client_id or exc.client_id
        ctx.detail = f"{exc.error}: {exc.description}"[:200]
        return _oauth_error(exc)
    ctx.detail = f"granted {answer['scope']}"[:200]
    return JSONResponse(answer, headers=_NO_STORE)


def smart_configuration(service: TokenService) -> dict[str, Any]:
    """The SMART configuration (discovery) document."""
    return {
        "issuer": service.issuer,
        "token_endpoint": service.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": [GRANT_TYPE],
        "scopes_supported": ["system/*.rs", "system/*.read", "system/*.cruds", "system/*.write"],
        "response_types_supported": ["token"],
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }


@discovery.get("/.well-known/smart-configuration")
@discovery.get("/fhir/.well-known/smart-configuration")
async def well_known(tokens: TokensDep) -> JSONResponse:
    """Where and how systems get tokens (public, not audited: it holds no data)."""
    return JSONResponse(smart_configuration(tokens))
