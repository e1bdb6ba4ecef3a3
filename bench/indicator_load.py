"""Bulk loading that bypasses the gateway: synthetic region → mapping engine → transactions → HAPI.

The same mapping engine the forwarder uses (prepare the record, plan its resources), but the
transaction Bundles go straight to HAPI, many in flight, without the gateway's per-record intake
bookkeeping. The reads, extract and load benchmarks fill HAPI with it; the indicator benchmark
no longer does (it loads through the native gateway, bench/gateway_load.py), and the ingest
benchmark's baseline borrows only ``MemoryLinks``.

A person's stays at the same hospital share one Patient, and one transaction may not write a
resource twice, so stays go out in *waves*: wave n holds each person's n-th stay at a hospital;
every bundle of wave n is committed before wave n+1 starts (later stays' conditional references
to the Patient then resolve against stored data).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from facade.forward.bundles import point_at_entries
from facade.mapping.engine import MappingEngine
from facade.mapping.prepare import prepare_payload
from facade.settings import Settings
from facade.synth.generator import Region
from facade.synth.records import RECORD_TYPES, Stay, organization_record, stay_records
from facade.upstream import UpstreamClient


@dataclass
class LoadStats:
    """What a load wrote and how fast."""

    stays: int = 0
    records: int = 0
    resources: int = 0
    bundles: int = 0
    seconds: float = 0.0
    mapping_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Resources per second."""
        return self.resources / self.seconds if self.seconds else 0.0


class MemoryLinks:
    """``LinkFacts`` from the cases mapped so far (the gateway keeps these in its database)."""

    def __init__(self, engine: MappingEngine) -> None:
        self.engine = engine
        self.known: dict[tuple[str, str, str], dict[str, Any]] = {}

    def remember(self, org: str, record_type: str, payload: Mapping[str, Any]) -> None:
        wanted = self.engine.fact_fields(record_type)
        if wanted:
            self.known[(org, record_type, str(payload["recordId"]))] = {
                k: v for k, v in payload.items() if k in wanted
            }

    def bound(self, org: str) -> _OrgView:
        return _OrgView(self, org)


class _OrgView:
    def __init__(self, links: MemoryLinks, org: str) -> None:
        self.links, self.org = links, org

    def facts(self, record_type: str, key: str) -> Mapping[str, Any] | None:
        return self.links.known.get((self.org, record_type, key))


class DirectLoader:
    """Maps records with the mapping engine and posts transaction Bundles to HAPI."""

    def __init__(
        self, settings: Settings, *, concurrency: int = 4, bundle_entries: int = 250
    ) -> None:
        self.settings = settings
        self.engine = MappingEngine.from_settings(settings)
        self.key = settings.secret("pseudonym_key")
        self.links = MemoryLinks(self.engine)
        self.concurrency = concurrency
        self.bundle_entries = bundle_entries

    def _entries(self, org: str, kind: str, record: dict[str, Any]) -> list[dict[str, Any]]:
        rt = self.engine.record_type(kind)
        payload, _ = prepare_payload(self.engine, rt, record, self.key)
        self.links.remember(org, kind, payload)
        plan = self.engine.plan(rt, payload, org, self.links.bound(org))
        return [entry.bundle_entry() for entry in plan.entries]

    def _stay_entries(self, stay: Stay) -> list[dict[str, Any]]:
        org = stay.hospital.org_code
        records = stay_records(stay)
        entries: list[dict[str, Any]] = []
        for kind in RECORD_TYPES:
            for record in records.get(kind, []):
                entries.extend(self._entries(org, kind, record))
        return entries

    def _bundles(self, stays: list[Stay], stats: LoadStats) -> Iterator[dict[str, Any]]:
        current: list[dict[str, Any]] = []
        for stay in stays:
            started = time.perf_counter()
            entries = self._stay_entries(stay)
            stats.mapping_seconds += time.perf_counter() - started
            stats.stays += 1
            stats.resources += len(entries)
            if current and len(current) + len(entries) > self.bundle_entries:
                yield _bundle(current)
                current = []
            current.extend(entries)
        if current:
            yield _bundle(current)

    async def load(self, region: Region) -> LoadStats:
        """Write the whole region; raise on the first refused transaction."""
        stats = LoadStats()
        started = time.perf_counter()
        upstream = UpstreamClient(self.settings)
        try:
            orgs = [
                e
                for h in region.hospitals
                for e in self._entries(h.org_code, "organization", organization_record(h))
            ]
            await upstream.transaction(_bundle(orgs))
            for wave in _waves(region.stays):
                await self._send_all(upstream, self._bundles(wave, stats), stats)
        finally:
            await upstream.aclose()
        stats.records = sum(len(v) for s in region.stays for v in stay_records(s).values())
        stats.seconds = time.perf_counter() - started
        return stats

    async def _send_all(
        self, upstream: UpstreamClient, bundles: Iterator[dict[str, Any]], stats: LoadStats
    ) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[Any]] = set()

        async def send(bundle: dict[str, Any]) -> None:
            try:
                await upstream.transaction(bundle)
            finally:
                gate.release()

        for bundle in bundles:
            await gate.acquire()
            stats.bundles += 1
            task = asyncio.create_task(send(bundle))
            running.add(task)
            task.add_done_callback(running.discard)
            done = [t for t in list(running) if t.done()]
            for finished in done:
                finished.result()
        await asyncio.gather(*running)


def _waves(stays: list[Stay]) -> list[list[Stay]]:
    seen: dict[tuple[int, str], int] = defaultdict(int)
    waves: dict[int, list[Stay]] = defaultdict(list)
    for stay in sorted(stays, key=lambda s: s.admitted):
        key = (id(stay.person), stay.hospital.org_code)
        waves[seen[key]].append(stay)
        seen[key] += 1
    return [waves[i] for i in sorted(waves)]


def _bundle(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction whose conditional references to its own entries point at their fullUrls."""
    point_at_entries(entries, {e["request"]["url"]: e["fullUrl"] for e in entries})
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "id": uuid.uuid4().hex,
        "entry": entries,
    }
