"""HTTP binding of the gateway: ``POST /vte-x/v1/gateway`` and per-service aliases, always HTTP 200."""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.native.audit import no_audit
from facade.native.gateway import Gateway, Inbound
from facade.settings import Settings

router = APIRouter(tags=["native (VTE-X)"])
REPLY_MEDIA_TYPE = "application/json; charset=UTF-8"


def _gateway(app: FastAPI) -> Gateway:
    """The app's gateway, built on first use from the app's settings and database."""
    gateway: Gateway | None = getattr(app.state, "native_gateway", None)
    if gateway is None:
        gateway = Gateway(
            app.state.settings,
            app.state.database,
            queries=getattr(app.state, "native_queries", None),
        )
        app.state.native_gateway = gateway
    return gateway


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` (before anything is parsed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else ""
    proxies = [ipaddress.ip_network(cidr, strict=False) for cidr in settings.native_trusted_proxies]
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [
        hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()
    ]
    for hop in reversed(hops):  # the right-most hop not added by our own proxies is the client
        if not _within(hop, proxies):
            return hop
    return peer


def _within(address: str, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def _serve(request: Request, path_service: str | None) -> Response:
    app: FastAPI = request.app
    settings: Settings = app.state.settings
    inbound = Inbound(
        raw=await read_body(request, settings.native_max_body_bytes),
        client_ip=client_ip(request, settings),
        path_service=path_service,
    )
    reply = await run_in_threadpool(
        _gateway(app).handle,
        inbound,
        processor=getattr(app.state, "record_processor", None),
        audit=getattr(app.state, "native_audit", no_audit),
    )
    return Response(orjson.dumps(reply), status_code=200, media_type=REPLY_MEDIA_TYPE)


@router.post("/vte-x/v1/gateway", summary="VTE-X gateway (the operation is named by serviceCode)")
async def gateway(request: Request) -> Response:
    """Every VTE-X service through one endpoint; the reply's ``code`` tells the outcome."""
    return await _serve(request, None)


@router.post(
    "/vte-x/v1/{service_code}", summary="VTE-X per-service alias (path must equal serviceCode)"
)
async def service_alias(service_code: str, request: Request) -> Response:
    """The same gateway under ``/vte-x/v1/<serviceCode>``; a path that disagrees with serviceCode is 2001."""
    return await _serve(request, service_code)
