"""The forwarder: accepted receipts → FHIR transactions in HAPI → receipts stored or failed.

A drain claims the oldest accepted records round after round, plans each with the mapping
engine, cuts them into bounded transactions and hands those to a ``Dispatcher`` that keeps up
to ``forward_concurrency`` in flight (a transaction waits for every earlier one that writes
what it writes or reads, so versions and links stay in order). Every receipt is settled:

* transaction committed → ``stored`` (the main resource's id kept as the receipt's result);
* HAPI unreachable or failing (``UpstreamUnavailable``) → every unsettled record goes back to
  the queue, claimable after one probe interval; the loop backs off exponentially but probes
  HAPI every ``forward_probe_seconds`` and resumes as soon as it answers again (a probe that
  answers while writes keep failing ends every other backoff only);
* HAPI answers 409 (two writers on one resource at the same moment) → those records come back
  after a short per-record delay;
* HAPI refuses a transaction (4xx) → its records are retried one by one, so only the bad record
  fails (with HAPI's reason, quoted values removed) and the good ones of the same Bundle are
  stored. A record refused because the record it links to is still on its way is retried later
  (on its way: still queued, or stored by another forwarder process while this transaction was
  in HAPI, since HAPI checked the reference before that commit).

Writes carry the trusted-write key (``X-VTE-Trusted-Write``) when one is configured: HAPI then
skips its write-time profile validation for them, and a sampled ``$validate`` of stored
records watches over that guarantee (``facade.forward.sampling``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson

from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import UpstreamRejected, UpstreamUnavailable
from facade.forward.bundles import Planned, Transaction, transactions
from facade.forward.dispatch import Dispatcher
from facade.forward.doorbell import Doorbell
from facade.forward.ids import IdStore, Scheme
from facade.forward.reasons import reason_text, redact_quotes
from facade.forward.sampling import Sampler
from facade.mapping.engine import ItemSet, MappingEngine, RecordPlan
from facade.mapping.facts import FactStore, OrgLinks
from facade.mapping.pathset import MappingError
from facade.metrics.registry import FORWARDED_RECORDS
from facade.native.receipts import ClaimedRecord, ReceiptQueue
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.settings import Settings
from facade.upstream import UpstreamClient

__all__ = ["TRUSTED_WRITE_HEADER", "ForwardReport", "Forwarder", "reason_text", "redact_quotes"]

log = logging.getLogger("facade.forward")

# The header HAPI's DeclaredProfileValidatingInterceptor honours (docker/hapi TrustedWrites).
TRUSTED_WRITE_HEADER = "X-VTE-Trusted-Write"
# A read that touches HAPI's database: 404 when HAPI and its database are up.
PROBE_PATH = "Organization/vte-readiness-probe"
PROBE_TIMEOUT_SECONDS = 5.0
# HAPI answers 409 when two writers update one resource at once: a retry settles it.
_TRANSIENT_STATUS = {409}
# Clocks of two facade hosts differ a little: a link stored this long before a transaction was
# sent still counts as stored while it was in HAPI (one retry too many at worst).
_CLOCK_SKEW = timedelta(seconds=1)


@dataclass
class ForwardReport:
    """What a round (or a drain) did."""

    claimed: int = 0
    stored: int = 0
    failed: int = 0
    released: int = 0
    # of the released: HAPI answered 409 (another writer on one of its resources), or a record
    # it links to was still queued (held by this or another forwarder process)
    conflicts: int = 0
    link_waits: int = 0
    transactions: int = 0
    entries: int = 0  # resources and deletions in committed transactions
    seconds: float = 0.0
    upstream_down: bool = False
    paused: bool = False  # the legacy-id scan (ids.py) is running: nothing is forwarded meanwhile

    def merge(self, other: ForwardReport) -> None:
        """Add another round's numbers to this one."""
        for name in (
            "claimed",
            "stored",
            "failed",
            "released",
            "conflicts",
            "link_waits",
            "transactions",
            "entries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.upstream_down = self.upstream_down or other.upstream_down
        self.paused = self.paused or other.paused

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the CLI."""
        return asdict(self)


class Forwarder:
    """Moves accepted records into HAPI; any number of processes may run one on a database."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        upstream: UpstreamClient,
        engine: MappingEngine | None = None,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.settings = settings
        self.upstream = upstream
        # Rung by this process's gateway: an idle wait ends as soon as records are accepted.
        self.doorbell = doorbell or Doorbell()
        self.engine = engine or MappingEngine.from_settings(settings)
        self.queue = ReceiptQueue(database, SecretBox.for_purpose(settings, RECORD_PAYLOADS))
        self.facts = FactStore.for_settings(settings, database)
        self.ids = IdStore(database)
        self.sampler = Sampler(
            database,
            upstream,
            settings.forward_validate_sample_rate,
            per_minute=settings.forward_validate_per_minute,
            max_delay=settings.forward_validate_max_delay_seconds,
        )
        key = settings.hapi_trusted_write_key
        self.write_headers = {TRUSTED_WRITE_HEADER: key.get_secret_value()} if key else {}
        self.services = {
            name: rt.service_code for name, rt in self.engine.dictionary.record_types.items()
        }

    # -- loop ---------------------------------------------------------------------------------------

    async def drain(self, *, max_rounds: int = 1000) -> ForwardReport:
        """Rounds until nothing is claimable (records waiting for a retry stay accepted); then the
        samples taken are checked before returning."""
        try:
            return await self.rounds(max_rounds)
        finally:
            await self.sampler.flush()
            await self.sampler.close()

    async def run_once(self) -> ForwardReport:
        """One claim round, written completely."""
        return await self.drain(max_rounds=1)

    async def rounds(self, max_rounds: int) -> ForwardReport:
        """Claim and write rounds until nothing is claimable (what ``run_forever`` repeats)."""
        started = time.perf_counter()
        report = ForwardReport()
        dispatcher = Dispatcher(self.settings.forward_concurrency)
        rounds = 0
        self.sampler.forwarding(True)
        try:
            while rounds < max_rounds and not report.upstream_down:
                scheme = await asyncio.to_thread(self.ids.scheme)
                if scheme == "adopting":
                    report.paused = True
                    break
                claimed = await asyncio.to_thread(
                    self.queue.claim,
                    limit=self.settings.forward_claim_size,
                    lease_seconds=self.settings.forward_lease_seconds,
                )
                if not claimed:
                    if dispatcher.in_flight == 0:
                        break
                    # What is in flight may free later versions and linked records: wait, look again.
                    await dispatcher.join()
                    continue
                rounds += 1
                report.claimed += len(claimed)
                if report.upstream_down:  # a transaction in flight met the outage meanwhile
                    for record in claimed:
                        await self._release(record, report, outage=True)
                    break
                await self._round(claimed, scheme, dispatcher, report)
        finally:
            await dispatcher.join()
            self.sampler.forwarding(False)
            report.seconds = time.perf_counter() - started
        return report

    async def run_forever(self, stop: asyncio.Event, total: ForwardReport | None = None) -> None:
        """Drain, then wait ``forward_idle_seconds`` or until the doorbell rings, until ``stop`` is
        set; after HAPI was down, back off exponentially while probing it, and resume as soon as
        it answers again. Every round's numbers are added to ``total`` when given (``vte-facade
        forward`` prints them)."""
        backoff = 0.0
        # A probe answering at once ends the backoff, unless that already happened after the
        # last failed round: then HAPI answers reads but not writes, and the backoff runs out.
        trust_probe = True
        try:
            while not stop.is_set():
                try:
                    report = await self.rounds(max_rounds=1000)
                except Exception:  # the loop must survive anything; the cause goes to the log
                    log.exception("forwarder round failed")
                    await _wait(stop, self.settings.forward_retry_base_seconds)
                    continue
                if total is not None:
                    total.merge(report)
                if report.upstream_down:
                    backoff = min(
                        max(backoff * 2, self.settings.forward_retry_base_seconds),
                        self.settings.forward_retry_max_seconds,
                    )
                    early = await self.await_upstream(stop, backoff, trust_probe=trust_probe)
                    trust_probe = not early
                    continue
                backoff, trust_probe = 0.0, True
                await self.doorbell.wait(stop, self.settings.forward_idle_seconds)
        finally:
            await self.sampler.close()

    async def await_upstream(
        self, stop: asyncio.Event, budget: float, *, trust_probe: bool = True
    ) -> bool:
        """Wait at most ``budget`` seconds, asking HAPI every ``forward_probe_seconds`` whether it
        is up; return early (True) once it answers after having been seen down, or at its first
        answer when ``trust_probe``."""
        started = time.monotonic()
        seen_down = False
        while not stop.is_set():
            elapsed = time.monotonic() - started
            if elapsed >= budget:
                break
            await _wait(stop, min(self.settings.forward_probe_seconds, budget - elapsed))
            if stop.is_set():
                break
            if await self.probe():
                if seen_down or trust_probe:
                    log.info("FHIR server answers again: forwarding resumes")
                    return True
            else:
                seen_down = True
        return False

    async def probe(self) -> bool:
        """Whether HAPI and its database answer (a read of an id that does not exist: 404)."""
        try:
            await self.upstream.request("GET", PROBE_PATH, timeout=PROBE_TIMEOUT_SECONDS)
        except UpstreamRejected:
            return True  # 404: HAPI looked in its database and found nothing, as expected
        except UpstreamUnavailable:
            return False
        return True

    # -- planning -----------------------------------------------------------------------------------

    async def _round(
        self,
        claimed: list[ClaimedRecord],
        scheme: Scheme,
        dispatcher: Dispatcher,
        report: ForwardReport,
    ) -> None:
        plans = await asyncio.to_thread(self._plan_all, claimed)
        planned: list[Planned] = []
        for record, plan in zip(claimed, plans, strict=True):
            if isinstance(plan, MappingError):
                log.error("record %s cannot be mapped: %s", record.receipt_id, plan)
                await self._fail(record, f"mapping failed: {plan}", report)
                continue
            try:
                deletes = await self._stale_items(plan) if record.record_version > 1 else []
            except UpstreamUnavailable:
                await self._release(record, report, outage=True)
                report.upstream_down = True
                continue
            planned.append(Planned(record, plan, deletes))
        if not planned:
            return
        identities = set().union(*(p.identities() for p in planned))
        ids = await asyncio.to_thread(self.ids.ids, scheme, identities)
        for item in planned:
            item.address(ids)
        for tx in transactions(planned, self.settings.forward_bundle_max_entries):
            if report.upstream_down:
                for item in tx.records:
                    await self._release(item.claimed, report, outage=True)
                continue
            await dispatcher.submit(tx.keys, partial(self._send, tx, report))

    def _plan_all(self, claimed: list[ClaimedRecord]) -> list[RecordPlan | MappingError]:
        """Map a round's records (in one worker thread: mapping is CPU work)."""
        plans: list[RecordPlan | MappingError] = []
        with self.facts.one_pass():  # a round's records point at the same cases and patients
            self._prefetch_links(claimed)
            for record in claimed:
                rt = self.engine.for_service(record.service_code)
                try:
                    if rt is None:
                        raise MappingError(f"service {record.service_code} has no record type")
                    links = OrgLinks(self.facts, record.org_code, self.services)
                    plans.append(self.engine.plan(rt, record.payload, record.org_code, links))
                except MappingError as exc:
                    plans.append(exc)
        return plans

    def _prefetch_links(self, claimed: list[ClaimedRecord]) -> None:
        """Look up what the round's records link to together (one query per hospital and
        record type instead of one per record)."""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in claimed:
            groups.setdefault((record.org_code, record.service_code), []).append(record.payload)
        for (org_code, service_code), payloads in groups.items():
            rt = self.engine.for_service(service_code)
            if rt is None:
                continue
            for target, ids in self.engine.linked_record_ids(rt, payloads).items():
                if target in self.services:
                    self.facts.prefetch(org_code, self.services[target], target, ids)

    async def _stale_items(self, plan: RecordPlan) -> list[dict[str, Any]]:
        """DELETE entries for what a correction no longer has: items beyond the new count, and a
        main resource of another type (conditional: nothing to delete is fine)."""
        deletes: list[dict[str, Any]] = [
            {"request": {"method": "DELETE", "url": url}} for url in plan.alternates
        ]
        for items in plan.items:
            async for found in self.upstream.iter_search(items.resource_type, _owned_by(items)):
                number = _item_number(found, items)
                if number is not None and number > items.count:
                    url = f"{items.resource_type}/{found['id']}"
                    deletes.append({"request": {"method": "DELETE", "url": url}})
        return deletes

    # -- writing ------------------------------------------------------------------------------------

    async def _send(self, tx: Transaction, report: ForwardReport) -> None:
        """Write one transaction and settle its records; never raises (errors are logged)."""
        try:
            await self._write(tx, report, isolate=len(tx.records) > 1)
        except Exception:  # a bug here must not strand the records: they go back to the queue
            log.exception("writing a transaction of %d records failed", len(tx.records))
            for record in tx.records:
                await self._release(record.claimed, report)

    async def _write(self, tx: Transaction, report: ForwardReport, *, isolate: bool) -> None:
        bundle, mains = tx.bundle()
        report.transactions += 1
        sent = utcnow()
        try:
            response = await self.upstream.request(
                "POST", "", json=bundle, headers=self.write_headers
            )
        except UpstreamUnavailable:
            report.upstream_down = True
            for record in tx.records:
                await self._release(record.claimed, report, outage=True)
            return
        except UpstreamRejected as exc:
            if exc.upstream_status in _TRANSIENT_STATUS:
                report.conflicts += len(tx.records)
                for record in tx.records:
                    await self._release(record.claimed, report)
                return
            if isolate:
                for record in tx.records:
                    if report.upstream_down:
                        await self._release(record.claimed, report, outage=True)
                    else:
                        await self._write(Transaction([record]), report, isolate=False)
                return
            await self._refused(tx.records[0], exc, report, sent)
            return
        answer = orjson.loads(response.content) if response.content else {}
        results: list[dict[str, Any]] = answer.get("entry") or []
        report.entries += len(bundle["entry"])
        settled: list[tuple[str, str, str | None]] = []
        for record, main in zip(tx.records, mains, strict=True):
            written = [
                _location(results[i] if i < len(results) else {})
                for i in range(main, main + len(record.plan.entries))
            ]
            settled.append((record.claimed.receipt_id, record.claimed.lease_token, written[0]))
            self.sampler.offer(record.claimed.receipt_id, [ref for ref in written if ref])
        stored = await asyncio.to_thread(self.queue.mark_stored_many, settled)
        report.stored += stored
        FORWARDED_RECORDS.labels("stored").inc(stored)

    async def _refused(
        self, record: Planned, error: UpstreamRejected, report: ForwardReport, sent: datetime
    ) -> None:
        if await asyncio.to_thread(self._waits_for_link, record.claimed, sent):
            report.link_waits += 1
            await self._release(record.claimed, report)
            return
        log.info("record %s refused by HAPI (%s)", record.claimed.receipt_id, error.upstream_status)
        await self._fail(record.claimed, reason_text(error), report)

    def _waits_for_link(self, record: ClaimedRecord, sent: datetime) -> bool:
        """Whether a record it links to was not in HAPI when the transaction ``sent`` then was
        checked: still accepted, or stored since (by another process). Then retry, don't fail."""
        rt = self.engine.for_service(record.service_code)
        if rt is None:
            return False
        for ref in self.engine.links_by_record_id(rt):
            value = record.payload.get(ref.by_field or "")
            target = self.services.get(ref.record_type or "")
            if value is None or target is None:
                continue
            live = self.facts.live(record.org_code, target, ref.record_type or "", str(value))
            if live is None:
                continue
            if live.status == "accepted":
                return True
            if live.stored_at is not None and live.stored_at >= sent - _CLOCK_SKEW:
                return True
        return False

    async def _fail(self, record: ClaimedRecord, reason: str, report: ForwardReport) -> None:
        failed = await asyncio.to_thread(
            self.queue.mark_failed, record.receipt_id, record.lease_token, reason=reason
        )
        report.failed += 1 if failed else 0
        FORWARDED_RECORDS.labels("failed").inc(1 if failed else 0)

    async def _release(
        self, record: ClaimedRecord, report: ForwardReport, *, outage: bool = False
    ) -> None:
        """Give a record back. After an outage it is claimable again after one probe interval (the
        loop's probe decides when to try again); after a refusal that may pass it waits its own
        backoff."""
        delay = (
            self.settings.forward_probe_seconds
            if outage
            else min(
                self.settings.forward_retry_base_seconds * 2 ** max(record.attempts - 1, 0),
                self.settings.forward_retry_max_seconds,
            )
        )
        released = await asyncio.to_thread(
            self.queue.release, record.receipt_id, record.lease_token, retry_in_seconds=delay
        )
        report.released += 1 if released else 0
        FORWARDED_RECORDS.labels("released").inc(1 if released else 0)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass


def _location(result: dict[str, Any]) -> str | None:
    """``Type/id`` of a transaction-response entry."""
    location = str((result.get("response") or {}).get("location") or "")
    reference = "/".join(location.split("/_history")[0].split("/")[-2:])
    return reference or None


def _owned_by(items: ItemSet) -> dict[str, str | list[str]]:
    """Search for the items of one record: chained on the reference to its main resource."""
    token = f"{items.owner_system}|{items.owner_value}"
    return {f"{items.owner_param}.identifier": token, "_elements": "identifier", "_count": "200"}


def _item_number(resource: dict[str, Any], items: ItemSet) -> int | None:
    for identifier in resource.get("identifier") or []:
        value = str(identifier.get("value", ""))
        if identifier.get("system") == items.system and value.startswith(items.prefix):
            suffix = value[len(items.prefix) :]
            return int(suffix) if suffix.isdigit() else None
    return None
