"""The forwarder: accepted receipts → FHIR transactions in HAPI → receipts stored or failed.

One round claims the oldest accepted records, plans each with the mapping engine, writes them in
bounded transactions and settles every receipt:

* transaction committed → ``stored`` (the main resource's id kept as the receipt's result);
* HAPI unreachable or busy (``UpstreamUnavailable``) → every unsettled record of the round is
  released and comes back after an exponential backoff; nothing is lost, order is kept;
* HAPI refuses a transaction (4xx) → its records are retried one by one, so only the bad record
  fails (with HAPI's reason, quoted values removed) and the good ones of the same Bundle are
  stored. A record refused because the record it links to is still on its way is retried later.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from facade.db import Database
from facade.errors import UpstreamRejected, UpstreamUnavailable
from facade.forward.bundles import Planned, Transaction, transactions
from facade.mapping.engine import ItemSet, MappingEngine, RecordPlan
from facade.mapping.facts import FactStore, OrgLinks
from facade.mapping.pathset import MappingError
from facade.native.receipts import ClaimedRecord, ReceiptQueue
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.settings import Settings
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.forward")

# Quoted values in HAPI messages may be data (a birth date): they are dropped, except conditional
# URLs and the description HAPI quotes after "Constraint failed: <id>:" (the profile's own text).
_QUOTED = re.compile(r"""(['"])(?![A-Z][A-Za-z]+\?)[^'"]{1,300}\1""")
_CONSTRAINT = re.compile(r"Constraint failed: [A-Za-z0-9.-]+: $")
# HAPI answers 409 when two writers update one resource at once: a retry settles it.
_TRANSIENT_STATUS = {409}


@dataclass
class ForwardReport:
    """What a round (or a drain) did."""

    claimed: int = 0
    stored: int = 0
    failed: int = 0
    released: int = 0
    transactions: int = 0
    seconds: float = 0.0
    upstream_down: bool = False

    def merge(self, other: ForwardReport) -> None:
        """Add another round's numbers to this one."""
        for name in ("claimed", "stored", "failed", "released", "transactions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.upstream_down = self.upstream_down or other.upstream_down

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the CLI."""
        return asdict(self)


def reason_text(error: UpstreamRejected) -> str:
    """HAPI's message for a receipt: the rule it names, no quoted values."""
    text = f"FHIR server refused the record ({error.upstream_status}): {error.message}"

    def redact(match: re.Match[str]) -> str:
        if _CONSTRAINT.search(text[: match.start()]):
            return match.group(0)
        return f"{match.group(1)}…{match.group(1)}"

    return _QUOTED.sub(redact, text)


class Forwarder:
    """Moves accepted records into HAPI; one instance per process is enough."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        upstream: UpstreamClient,
        engine: MappingEngine | None = None,
    ) -> None:
        self.settings = settings
        self.upstream = upstream
        self.engine = engine or MappingEngine.from_settings(settings)
        self.queue = ReceiptQueue(database, SecretBox.for_purpose(settings, RECORD_PAYLOADS))
        self.facts = FactStore.for_settings(settings, database)
        self.services = {
            name: rt.service_code for name, rt in self.engine.dictionary.record_types.items()
        }

    # -- loop ---------------------------------------------------------------------------------------

    async def run_once(self) -> ForwardReport:
        """Claim one batch of accepted records and settle each of them (or release it)."""
        started = time.perf_counter()
        report = ForwardReport()
        claimed = await asyncio.to_thread(
            self.queue.claim,
            limit=self.settings.forward_claim_size,
            lease_seconds=self.settings.forward_lease_seconds,
        )
        report.claimed = len(claimed)
        if claimed:
            planned = [p for p in [await self._plan(c, report) for c in claimed] if p is not None]
            await self._write(planned, report)
        report.seconds = time.perf_counter() - started
        return report

    async def drain(self, *, max_rounds: int = 1000) -> ForwardReport:
        """Rounds until nothing is claimable (records waiting for a retry stay accepted)."""
        total = ForwardReport()
        for _ in range(max_rounds):
            report = await self.run_once()
            total.merge(report)
            if report.claimed == 0 or report.upstream_down:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Drain, then wait ``forward_idle_seconds`` (longer after HAPI was down), until ``stop`` is set."""
        pause = self.settings.forward_idle_seconds
        while not stop.is_set():
            try:
                report = await self.drain()
                pause = (
                    min(pause * 2, self.settings.forward_retry_max_seconds)
                    if report.upstream_down
                    else self.settings.forward_idle_seconds
                )
            except Exception:  # the loop must survive anything; the cause goes to the log
                log.exception("forwarder round failed")
                pause = self.settings.forward_retry_base_seconds
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause)
            except TimeoutError:
                pass

    # -- planning -----------------------------------------------------------------------------------

    async def _plan(self, record: ClaimedRecord, report: ForwardReport) -> Planned | None:
        rt = self.engine.for_service(record.service_code)
        try:
            if rt is None:
                raise MappingError(f"service {record.service_code} has no record type")
            links = OrgLinks(self.facts, record.org_code, self.services)
            plan = await asyncio.to_thread(
                self.engine.plan, rt, record.payload, record.org_code, links
            )
            deletes = await self._stale_items(plan) if record.record_version > 1 else []
        except MappingError as exc:
            log.error("record %s cannot be mapped: %s", record.receipt_id, exc)
            await self._fail(record, f"mapping failed: {exc}", report)
            return None
        except UpstreamUnavailable:
            await self._release(record, report)
            report.upstream_down = True
            return None
        return Planned(record, plan, deletes)

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

    async def _write(self, planned: list[Planned], report: ForwardReport) -> None:
        pending = transactions(planned, self.settings.forward_bundle_max_entries)
        for position, tx in enumerate(pending):
            if report.upstream_down:
                for later in pending[position:]:
                    for record in later.records:
                        await self._release(record.claimed, report)
                return
            await self._send(tx, report, isolate=len(tx.records) > 1)

    async def _send(self, tx: Transaction, report: ForwardReport, *, isolate: bool) -> None:
        bundle, mains = tx.bundle()
        report.transactions += 1
        try:
            response = await self.upstream.transaction(bundle)
        except UpstreamUnavailable:
            report.upstream_down = True
            for record in tx.records:
                await self._release(record.claimed, report)
            return
        except UpstreamRejected as exc:
            if exc.upstream_status in _TRANSIENT_STATUS:
                report.upstream_down = True
                for record in tx.records:
                    await self._release(record.claimed, report)
                return
            if isolate:
                for record in tx.records:
                    if report.upstream_down:
                        await self._release(record.claimed, report)
                    else:
                        await self._send(Transaction([record]), report, isolate=False)
                return
            await self._refused(tx.records[0], exc, report)
            return
        results = response.get("entry") or []
        for record, index in zip(tx.records, mains, strict=True):
            location = ((results[index] if index < len(results) else {}).get("response") or {}).get(
                "location", ""
            )
            reference = "/".join(str(location).split("/_history")[0].split("/")[-2:])
            stored = await asyncio.to_thread(
                self.queue.mark_stored,
                record.claimed.receipt_id,
                record.claimed.lease_token,
                result_ref=reference or None,
            )
            report.stored += 1 if stored else 0

    async def _refused(
        self, record: Planned, error: UpstreamRejected, report: ForwardReport
    ) -> None:
        if await asyncio.to_thread(self._waits_for_link, record.claimed):
            await self._release(record.claimed, report)
            return
        log.info("record %s refused by HAPI (%s)", record.claimed.receipt_id, error.upstream_status)
        await self._fail(record.claimed, reason_text(error), report)

    def _waits_for_link(self, record: ClaimedRecord) -> bool:
        """Whether a record it links to is accepted but not yet in HAPI (then retry, don't fail)."""
        rt = self.engine.for_service(record.service_code)
        if rt is None:
            return False
        for ref in self.engine.links_by_record_id(rt):
            value = record.payload.get(ref.by_field or "")
            target = self.services.get(ref.record_type or "")
            if value is None or target is None:
                continue
            live = self.facts.live(record.org_code, target, str(value))
            if live is not None and live.status == "accepted":
                return True
        return False

    async def _fail(self, record: ClaimedRecord, reason: str, report: ForwardReport) -> None:
        failed = await asyncio.to_thread(
            self.queue.mark_failed, record.receipt_id, record.lease_token, reason=reason
        )
        report.failed += 1 if failed else 0

    async def _release(self, record: ClaimedRecord, report: ForwardReport) -> None:
        delay = min(
            self.settings.forward_retry_base_seconds * 2 ** max(record.attempts - 1, 0),
            self.settings.forward_retry_max_seconds,
        )
        released = await asyncio.to_thread(
            self.queue.release, record.receipt_id, record.lease_token, retry_in_seconds=delay
        )
        report.released += 1 if released else 0


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
