"""Counted and paged FHIR searches with one concurrency bound and simple statistics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from facade.errors import UpstreamRejected
from facade.upstream import UpstreamClient

Params = Sequence[tuple[str, str]]


@dataclass
class SearchStats:
    """What the searches cost: requests, pages, resources read, seconds waiting on HAPI."""

    counts: int = 0
    pages: int = 0
    resources: int = 0
    upstream_seconds: float = 0.0
    # With ``record`` on, every search as (phase, kind "count"/"stream", type, params): the
    # benchmark replays them straight against HAPI as its baselines.
    record: bool = False
    searches: list[tuple[str, str, str, list[tuple[str, str]]]] = field(default_factory=list)


def as_query(params: Params) -> dict[str, str | list[str]]:
    """Repeated parameters (two ``discharge-date`` bounds, several ``_has``) as httpx lists."""
    query: dict[str, list[str]] = {}
    for key, value in params:
        query.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in query.items()}


class Searcher:
    """Every request of one evaluation goes through here, at most ``concurrency`` at a time."""

    def __init__(self, upstream: UpstreamClient, *, concurrency: int, page_size: int) -> None:
        self.upstream = upstream
        self.gate = asyncio.Semaphore(concurrency)
        self.page_size = page_size
        self.stats = SearchStats()
        self.phase = ""

    async def _get(self, path: str, params: Params | None) -> dict[str, Any]:
        async with self.gate:
            started = time.perf_counter()
            try:
                body: dict[str, Any] = await self.upstream.get_json(
                    path, as_query(params) if params else None
                )
            finally:
                self.stats.upstream_seconds += time.perf_counter() - started
        return body

    async def count(self, resource_type: str, params: Params) -> int:
        """Exact number of matches via ``_summary=count``."""
        if self.stats.record:
            self.stats.searches.append((self.phase, "count", resource_type, list(params)))
        body = await self._get(resource_type, [*params, ("_summary", "count")])
        self.stats.counts += 1
        total = body.get("total")
        if not isinstance(total, int):
            raise UpstreamRejected(
                f"FHIR server gave no total for a count of {resource_type}", upstream_status=502
            )
        return total

    async def stream(
        self, resource_type: str, params: Params, elements: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Matching resources, one page in memory at a time, following ``next`` links."""
        query = [*params, ("_elements", elements), ("_count", str(self.page_size))]
        if self.stats.record:
            self.stats.searches.append((self.phase, "stream", resource_type, query))
        async for page in self.pages(resource_type, query):
            for entry in page.get("entry") or []:
                if (entry.get("search") or {}).get("mode", "match") == "match":
                    self.stats.resources += 1
                    yield entry["resource"]

    async def first_page(self, path: str, params: Params) -> dict[str, Any]:
        """One Bundle answer, as HAPI sent it."""
        return await self._get(path, params)

    async def pages(self, path: str, params: Params) -> AsyncIterator[dict[str, Any]]:
        """Every page of a Bundle answer (a search or a history), following ``next`` links."""
        page: dict[str, Any] | None = await self._get(path, params)
        while page is not None:
            self.stats.pages += 1
            yield page
            next_url = next(
                (link["url"] for link in page.get("link") or [] if link.get("relation") == "next"),
                None,
            )
            page = await self._get(next_url, None) if next_url else None

    async def by_values(
        self,
        resource_type: str,
        name: str,
        values: list[str],
        params: Params,
        elements: str,
        chunk: int,
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream a search once per chunk of OR-ed values of one parameter (URLs stay short)."""
        for start in range(0, len(values), chunk):
            joined = ",".join(values[start : start + chunk])
            async for resource in self.stream(resource_type, [*params, (name, joined)], elements):
                yield resource
