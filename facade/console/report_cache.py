"""Published MeasureReports kept parsed in memory, revalidated against HAPI on every read.

A region report carries every hospital, department and month stratum: a few hundred KiB each
for a large region, and HAPI parses a stored resource whole even to return a few elements of it.
So a page view asks HAPI one counting question instead — how many of these reports changed since
they were read (``_lastUpdated=ge<time of that read>``, ``_summary=count``, answered from HAPI's
indexes without loading a resource) — and reads the reports in full only when the answer is not
zero or when it has never seen them. The read time is HAPI's own (the search Bundle's
``meta.lastUpdated``), so the facade's clock does not matter. Reports published by another
process (the CLI) are picked up on the next view; a deleted report is not noticed until the
cache forgets it (reports are replaced, never deleted, by the indicator service).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from facade.indicators.report import REPORT_IDENTIFIER_SYSTEM, scope_from_report
from facade.indicators.results import ScopeResult
from facade.upstream import UpstreamClient

_CHUNK = 20  # identifiers per search URL


@dataclass(frozen=True)
class CachedReport:
    """What the pages need of one stored report."""

    id: str
    date: str | None
    scope: ScopeResult


def _identifier(resource: dict[str, Any]) -> str | None:
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == REPORT_IDENTIFIER_SYSTEM:
            return str(identifier.get("value"))
    return None


def _tokens(values: list[str]) -> str:
    return ",".join(f"{REPORT_IDENTIFIER_SYSTEM}|{value}" for value in values)


class ReportCache:
    """Parsed reports (or their known absence) by business identifier, least recently used out."""

    def __init__(self, size: int = 2_000) -> None:
        # identifier -> (HAPI time of the read, the report or None when it did not exist)
        self._items: OrderedDict[str, tuple[str, CachedReport | None]] = OrderedDict()
        self._size = size
        self._lock = asyncio.Lock()
        self.full_reads = 0  # searches that read reports in full (tests and the benchmark)

    async def reports(
        self, upstream: UpstreamClient, identifiers: list[str]
    ) -> dict[str, CachedReport]:
        """The stored reports of these identifiers, as HAPI holds them now."""
        wanted = sorted(set(identifiers))
        async with self._lock:
            known = {value: self._items[value] for value in wanted if value in self._items}
        if len(known) == len(wanted) and wanted:
            since = min(read_at for read_at, _ in known.values())
            if since and not await self._changed(upstream, wanted, since):
                return self._present(wanted, known)
            known = {}
        await self._read(upstream, [v for v in wanted if v not in known])
        async with self._lock:
            known = {value: self._items[value] for value in wanted if value in self._items}
        return self._present(wanted, known)

    async def _changed(self, upstream: UpstreamClient, wanted: list[str], since: str) -> bool:
        for start in range(0, len(wanted), _CHUNK):
            changed = await upstream.count(
                "MeasureReport",
                {
                    "identifier": _tokens(wanted[start : start + _CHUNK]),
                    "_lastUpdated": f"ge{since}",
                },
            )
            if changed:
                return True
        return False

    async def _read(self, upstream: UpstreamClient, values: list[str]) -> None:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            page = await upstream.get_json(
                "MeasureReport", {"identifier": _tokens(chunk), "_count": str(len(chunk))}
            )
            self.full_reads += 1
            read_at = str((page.get("meta") or {}).get("lastUpdated") or "")
            found: dict[str, dict[str, Any]] = {}
            for entry in page.get("entry") or []:
                resource = entry.get("resource") or {}
                value = _identifier(resource)
                if value is not None:
                    found[value] = resource
            async with self._lock:
                for value in chunk:
                    resource = found.get(value)
                    report = (
                        CachedReport(
                            str(resource.get("id")),
                            str(resource["date"]) if resource.get("date") else None,
                            scope_from_report(resource),
                        )
                        if resource is not None
                        else None
                    )
                    self._items[value] = (read_at, report)
                    self._items.move_to_end(value)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)

    def _present(
        self, wanted: list[str], known: dict[str, tuple[str, CachedReport | None]]
    ) -> dict[str, CachedReport]:
        return {v: report for v in wanted if (item := known.get(v)) and (report := item[1])}
