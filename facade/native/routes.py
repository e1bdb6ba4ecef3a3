"""HTTP binding of the gateway: ``POST /vte-x/v1/gateway`` and per-service aliases, always HTTP 200."""

from __future__ import annotations

import asyncio
import ipaddress
import weakref
from typing import Any

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Request, Response

from facade.api.deps import GatewayDep
from facade.metrics.registry import NATIVE_REPLIES
from facade.native.gateway import Gateway, Inbound
from facade.native.mtls import presented_certificate
from facade.settings import Settings

router = APIRouter(tags=["native (VTE-X)"])
REPLY_MEDIA_TYPE = "application/json; charset=UTF-8"
# Each gateway's limiter, with the event loop it belongs to (a test client runs a loop of its own).
_LIMITERS: weakref.WeakKeyDictionary[
    Gateway, tuple[asyncio.AbstractEventLoop, anyio.CapacityLimiter]
] = weakref.WeakKeyDictionary()


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


def _proxies(settings: Settings) -> list[Any]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in settings.native_trusted_proxies]


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    """Whether the TCP peer is one of our own proxies (whose forwarded headers we believe)."""
    peer = request.client.host if request.client else ""
    return _within(peer, _proxies(settings))


def client_certificate(request: Request, settings: Settings) -> bytes | None:
    """The client certificate our TLS proxy verified (DER), if any (see facade/native/mtls.py)."""
    return presented_certificate(
        request.headers, from_trusted_proxy=from_trusted_proxy(request, settings)
    )


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else ""
    proxies = _proxies(settings)
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


def _limiter(gateway: Gateway) -> anyio.CapacityLimiter | None:
    """At most ``native_concurrent_requests`` of this gateway's requests at once in this event
    loop; None (the thread pool's own limit) when the setting is 0."""
    allowed = gateway.settings.native_concurrent_requests
    if allowed <= 0:
        return None
    loop = asyncio.get_running_loop()
    known = _LIMITERS.get(gateway)
    if known is None or known[0] is not loop:
        known = _LIMITERS[gateway] = (loop, anyio.CapacityLimiter(allowed))
    return known[1]


async def _serve(request: Request, gateway: Gateway, path_service: str | None) -> Response:
    settings = gateway.settings
    inbound = Inbound(
        raw=await read_body(request, settings.native_max_body_bytes),
        client_ip=client_ip(request, settings),
        path_service=path_service,
        client_cert=client_certificate(request, settings),
        received_ms=gateway.now_ms(),  # before the wait for a turn
    )
    reply = await anyio.to_thread.run_sync(gateway.handle, inbound, limiter=_limiter(gateway))
    NATIVE_REPLIES.labels(reply["code"]).inc()
    return Response(orjson.dumps(reply), status_code=200, media_type=REPLY_MEDIA_TYPE)


@router.post("/vte-x/v1/gateway", summary="VTE-X gateway (the operation is named by serviceCode)")
async def gateway(request: Request, native: GatewayDep) -> Response:
    """Every VTE-X service through one endpoint; the reply's ``code`` tells the outcome."""
    return await _serve(request, native, None)


@router.post(
    "/vte-x/v1/{service_code}", summary="VTE-X per-service alias (path must equal serviceCode)"
)
async def service_alias(service_code: str, request: Request, native: GatewayDep) -> Response:
    """The same gateway under ``/vte-x/v1/<serviceCode>``; a path that disagrees with serviceCode is 2001."""
    return await _serve(request, native, service_code)
