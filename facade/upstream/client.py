"""UpstreamClient: long-lived connection pools to HAPI with bounded concurrency and timeouts.

GETs (every read and search, the read path's hot loop) go through aiohttp, whose C HTTP parser
and pool hold up under concurrency; everything else (writes, and a client built with a test
transport) through httpx. Both share one semaphore no larger than the pool, so requests wait
here, never inside a pool (encode/httpx#3215).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import httpx
import orjson

from facade.errors import UpstreamRejected, UpstreamUnavailable
from facade.fhir.outcome import upstream_message
from facade.metrics.registry import UPSTREAM_LATENCY
from facade.settings import Settings
from facade.upstream.address import UpstreamAddress

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"

# httpx's pool degrades badly when many requests queue for connections (encode/httpx#3215), so
# callers wait on a semaphore no larger than the pool instead of inside httpx.
_RETRYABLE = {408, 429, 500, 502, 503, 504}


class UpstreamClient:
    """Talks FHIR JSON to HAPI; every failure comes back as an UpstreamError subclass."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = settings.fhir_base_url
        # Errors raised here reach clients: they speak of the facade, never of HAPI's address.
        self.address = UpstreamAddress(self.base_url, settings.public_base_url + "/fhir")
        limit = settings.upstream_max_connections
        self._gate = asyncio.Semaphore(limit)
        self._limit = limit
        self._timeout = aiohttp.ClientTimeout(
            total=settings.upstream_timeout_seconds,
            sock_connect=settings.upstream_connect_timeout_seconds,
        )
        self._headers = {
            "Accept": FHIR_JSON,
            # gzip by default: HAPI streams uncompressed answers in tiny chunks (settings.py).
            "Accept-Encoding": "gzip" if settings.upstream_gzip else "identity",
        }
        # aiohttp for GETs, bound to the event loop of the first GET (None: not opened yet; a
        # test transport keeps every request on httpx).
        self._aio: aiohttp.ClientSession | None = None
        self._aio_loop: asyncio.AbstractEventLoop | None = None
        self._use_aio = transport is None
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(
                settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
            ),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            headers=self._headers,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._http.aclose()
        if self._aio is not None:
            if self._aio_loop is asyncio.get_running_loop():
                await self._aio.close()
            else:  # its loop has ended: nothing left to close there
                self._aio.detach()
            self._aio = None

    def _session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session of the running loop (None: use httpx, e.g. in another loop)."""
        if not self._use_aio:
            return None
        loop = asyncio.get_running_loop()
        if self._aio is None:
            self._aio = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit),
                timeout=self._timeout,
                headers=self._headers,
                auto_decompress=True,
            )
            self._aio_loop = loop
        return self._aio if self._aio_loop is loop else None

    def _url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path}" if path else self.base_url

    async def _get(self, path: str, params: Mapping[str, str | list[str]] | None) -> bytes:
        """GET through aiohttp; the same errors, metrics and address hiding as ``request``."""
        session = self._session()
        if session is None:
            return (await self.request("GET", path, params=params)).content
        query = [
            (k, item)
            for k, v in (params or {}).items()
            for item in ([v] if isinstance(v, str) else v)
        ]
        async with self._gate:
            started = time.perf_counter()
            try:
                async with session.get(self._url(path), params=query or None) as response:
                    status, content = response.status, await response.read()
            except TimeoutError as exc:
                UPSTREAM_LATENCY.labels("GET", "unavailable").observe(time.perf_counter() - started)
                log.debug("FHIR server %s timed out on GET %s", self.base_url, path)
                raise UpstreamUnavailable(
                    f"FHIR server timed out on GET {self.address.text(path)}"
                ) from exc
            except aiohttp.ClientError as exc:
                UPSTREAM_LATENCY.labels("GET", "unavailable").observe(time.perf_counter() - started)
                log.debug("FHIR server %s unreachable: %r", self.base_url, exc)
                raise UpstreamUnavailable(f"FHIR server unreachable: {type(exc).__name__}") from exc
            UPSTREAM_LATENCY.labels("GET", _outcome(status)).observe(time.perf_counter() - started)
        if status >= 400:
            self._raise(status, content)
        return content

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request; raise UpstreamUnavailable or UpstreamRejected instead of returning errors.

        ``path`` is relative to the FHIR base (``Patient``, ``Patient/1``) or an absolute URL on
        the same server (a paging ``next`` link). ``timeout`` overrides the configured read and
        write timeouts for this request (a readiness probe must not wait two minutes).
        """
        content = orjson.dumps(json) if json is not None else None
        send_headers = dict(headers or {})
        if content is not None:
            send_headers.setdefault("Content-Type", FHIR_JSON)
        async with self._gate:
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method,
                    path,
                    params=params,
                    content=content,
                    headers=send_headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
                )
            except httpx.TimeoutException as exc:
                UPSTREAM_LATENCY.labels(method, "unavailable").observe(
                    time.perf_counter() - started
                )
                # The address is configuration operators know; clients never see it.
                log.debug("FHIR server %s timed out on %s %s", self.base_url, method, path)
                raise UpstreamUnavailable(
                    f"FHIR server timed out on {method} {self.address.text(path)}"
                ) from exc
            except httpx.HTTPError as exc:
                UPSTREAM_LATENCY.labels(method, "unavailable").observe(
                    time.perf_counter() - started
                )
                log.debug("FHIR server %s unreachable: %r", self.base_url, exc)
                raise UpstreamUnavailable(f"FHIR server unreachable: {type(exc).__name__}") from exc
            UPSTREAM_LATENCY.labels(method, _outcome(response.status_code)).observe(
                time.perf_counter() - started
            )
        if response.status_code >= 400:
            self._raise(response.status_code, response.content)
        return response

    def _raise(self, status: int, content: bytes) -> None:
        body = self.address.scrub(_json_or_none(content))
        text = upstream_message(body, f"FHIR server answered {status}")
        if status in _RETRYABLE:
            raise UpstreamUnavailable(f"FHIR server temporarily failed: {text}")
        raise UpstreamRejected(text, upstream_status=status, outcome=body)

    async def get_json(self, path: str, params: Mapping[str, str | list[str]] | None = None) -> Any:
        """GET and parse FHIR JSON."""
        return orjson.loads(await self._get(path, params))

    async def send_json(
        self, method: str, path: str, body: Any, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST/PUT a FHIR JSON body and parse the answer (empty answers become {})."""
        response = await self.request(method, path, json=body, headers=headers)
        return orjson.loads(response.content) if response.content else {}

    async def metadata(self) -> dict[str, Any]:
        """The upstream CapabilityStatement (also our liveness probe for HAPI)."""
        result: dict[str, Any] = await self.get_json("metadata")
        return result

    async def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """POST a transaction or batch Bundle to the server root."""
        result: dict[str, Any] = await self.send_json("POST", "", bundle)
        return result

    async def count(
        self, resource_type: str, params: Mapping[str, str | list[str]] | None = None
    ) -> int:
        """Exact number of matches of a search, via ``_summary=count``."""
        query: dict[str, str | list[str]] = dict(params or {})
        query["_summary"] = "count"
        body = await self.get_json(resource_type, query)
        total = body.get("total")
        if not isinstance(total, int):
            raise UpstreamRejected(
                f"FHIR server gave no total for a count of {resource_type}", upstream_status=502
            )
        return total

    async def iter_search(
        self, resource_type: str, params: Mapping[str, str | list[str]] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every matching resource page by page, following ``next`` links.

        Only one page is held at a time, so memory stays flat however large the result.
        """
        page: dict[str, Any] | None = await self.get_json(resource_type, params)
        while page is not None:
            for entry in page.get("entry", []):
                if entry.get("search", {}).get("mode", "match") == "match":
                    yield entry["resource"]
            next_url = next(
                (link["url"] for link in page.get("link", []) if link.get("relation") == "next"),
                None,
            )
            page = await self.get_json(next_url) if next_url else None


def _json_or_none(content: bytes) -> dict[str, Any] | None:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _outcome(status: int) -> str:
    """The outcome label of an upstream answer: ok, rejected (4xx) or unavailable (retryable)."""
    if status in _RETRYABLE:
        return "unavailable"
    return "rejected" if status >= 400 else "ok"
