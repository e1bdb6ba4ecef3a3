"""UpstreamClient: one long-lived httpx.AsyncClient to HAPI with bounded concurrency and timeouts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

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
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(
                settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
            ),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            headers={"Accept": FHIR_JSON},
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

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
            body = self.address.scrub(_json_or_none(response))
            text = upstream_message(body, f"FHIR server answered {response.status_code}")
            if response.status_code in _RETRYABLE:
                raise UpstreamUnavailable(f"FHIR server temporarily failed: {text}")
            raise UpstreamRejected(text, upstream_status=response.status_code, outcome=body)
        return response

    async def get_json(self, path: str, params: Mapping[str, str | list[str]] | None = None) -> Any:
        """GET and parse FHIR JSON."""
        return orjson.loads((await self.request("GET", path, params=params)).content)

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


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _outcome(status: int) -> str:
    """The outcome label of an upstream answer: ok, rejected (4xx) or unavailable (retryable)."""
    if status in _RETRYABLE:
        return "unavailable"
    return "rejected" if status >= 400 else "ok"
