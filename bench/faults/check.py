"""After a fault run: the senders' ledger against the receipts and against HAPI, by business identifier.

Ground truth is what the senders were told: a record is *acknowledged* when a reply with code 0
listed it SUCCESS or DUPLICATE. Then, once the queue has drained:

* every acknowledged record is in HAPI exactly once: one resource carries its business
  identifier (``…/sid/record/<org>/<type>|<recordId>``); no identifier of the hospitals' record
  namespaces is carried by two resources (items and patients included);
* nothing else is there: no main identifier of a record nobody acknowledged;
* versions were applied in order: a case's encounter is ``finished`` exactly when the highest
  acknowledged version has a discharge, and the history of a corrected case never goes from
  ``finished`` back to ``in-progress``;
* receipts agree: ``VTE.BATCH.QUERY`` shows every receipt STORED, none accepted or failed, and
  the receipts table's reference of each stored record's latest version names the very resource
  that carries its identifier;
* every retry of a batch got the same reply, and a batch found in doubt was absent or complete.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.faults.push import CORRECTIONS, Batch, Ledger, Sender
from facade.db import Database
from facade.dictionary.loader import load_dictionary
from facade.fhir.naming import CANONICAL, REPORTING_ORG_TAG, record_identifier_system
from facade.native.tables import IntakeRecord
from facade.synth.records import SERVICE_CODES

RECORD_NAMESPACE = f"{CANONICAL}/sid/record/"
KIND_OF_SERVICE = {service: kind for kind, service in SERVICE_CODES.items()}
EXAMPLES = 5


@dataclass
class Verdict:
    """What the check found; ``ok`` when nothing was lost, duplicated, reordered or inconsistent."""

    batches: int = 0
    acknowledged_batches: int = 0
    records: int = 0  # distinct records acknowledged
    stored_once: int = 0
    lost: int = 0
    duplicated: int = 0  # identifiers carried by more than one resource
    unexpected: int = 0
    out_of_order: int = 0
    corrected: int = 0
    not_stored: int = 0  # receipts VTE.BATCH.QUERY shows accepted or failed
    receipts_inconsistent: int = 0
    replies_inconsistent: int = 0
    refused: int = 0  # batches refused as a whole, or records FAILED at intake
    doubts: dict[str, int] = field(default_factory=dict)
    transport_errors: int = 0
    resources: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicated, unexpected, out of order or inconsistent; no partial batch."""
        bad = (
            self.lost,
            self.duplicated,
            self.unexpected,
            self.out_of_order,
            self.not_stored,
            self.receipts_inconsistent,
            self.replies_inconsistent,
            self.refused,
            self.doubts.get("partial", 0),
            self.batches - self.acknowledged_batches,
        )
        return not any(bad) and self.stored_once == self.records > 0

    def note(self, kind: str, example: str) -> None:
        """Keep a few examples of each kind of problem for the report."""
        found = self.examples.setdefault(kind, [])
        if len(found) < EXAMPLES:
            found.append(example)

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with ``ok``."""
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class Held:
    """One resource in HAPI as the census sees it."""

    ref: str
    status: str | None
    identifiers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Acknowledged:
    """The highest acknowledged version of one record, and whether it was corrected."""

    version: int
    record: dict[str, Any]
    corrected: bool


def check(
    batches: list[Batch],
    ledger: Ledger,
    *,
    sender: Sender,
    database: Database,
    fhir_base_url: str,
    mappings_dir: Path,
) -> Verdict:
    """The whole comparison; ``sender`` asks VTE.BATCH.QUERY with the hospitals' own apps."""
    verdict = Verdict(batches=len(batches), transport_errors=len(ledger.errors))
    acknowledged = _acknowledged(batches, ledger, verdict)
    verdict.records = len(acknowledged)
    _query_receipts(batches, ledger, sender, verdict)
    orgs = sorted({b.org for b in batches})
    types = sorted(
        {
            spec.type
            for rt in load_dictionary(mappings_dir).record_types.values()
            for spec in rt.resources
        }
    )
    with httpx.Client(base_url=fhir_base_url + "/", timeout=300) as http:
        census = _census(http, orgs, types)
        verdict.resources = len(census)
        holders = _holders(census, verdict)
        _compare(acknowledged, holders, orgs, verdict)
        _versions(http, acknowledged, holders, verdict)
    _receipts_table(database, acknowledged, holders, orgs, verdict)
    return verdict


def _acknowledged(
    batches: list[Batch], ledger: Ledger, verdict: Verdict
) -> dict[tuple[str, str, str], Acknowledged]:
    """(org, record type, recordId) → highest acknowledged version, from the replies."""
    found: dict[tuple[str, str, str], Acknowledged] = {}
    for batch in batches:
        seen = ledger.batches.get(batch.batch_no)
        if seen is None or not seen.acks:
            verdict.note("unacknowledged", batch.batch_no)
            if seen is not None and seen.refusals:
                verdict.refused += 1
                verdict.note("refused", f"{batch.batch_no}: {seen.refusals}")
            continue
        verdict.acknowledged_batches += 1
        for doubt in seen.doubts:
            verdict.doubts[doubt] = verdict.doubts.get(doubt, 0) + 1
        first = _results(seen.acks[0])
        if any(_results(ack) != first for ack in seen.acks[1:]):
            verdict.replies_inconsistent += 1
            verdict.note("replies_inconsistent", batch.batch_no)
        kind = "case" if batch.kind == CORRECTIONS else batch.kind
        for result in seen.acks[0]["results"]:
            record = batch.records[result["index"]]
            if result["status"] == "FAILED":
                verdict.refused += 1
                verdict.note("refused", f"{batch.batch_no}[{result['index']}]: {result}")
                continue
            key = (batch.org, kind, str(record["recordId"]))
            version = int(record["recordVersion"])
            earlier = found.get(key)
            if earlier is None or version > earlier.version:
                corrected = earlier is not None or batch.kind == CORRECTIONS
                found[key] = Acknowledged(version, record, corrected)
    return found


def _results(payload: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r.get("index"), r.get("recordId"), r["status"], r.get("receiptId"))
        for r in payload["results"]
    ]


def _query_receipts(batches: list[Batch], ledger: Ledger, sender: Sender, verdict: Verdict) -> None:
    """VTE.BATCH.QUERY of every acknowledged batch: nothing may be left accepted or failed."""
    for batch in batches:
        seen = ledger.batches.get(batch.batch_no)
        if seen is None or not seen.acks:
            continue
        reply = sender.clients[batch.org].query_batch(batch.batch_no)
        storage = (reply.payload or {}).get("storage") or {}
        left = int(storage.get("accepted", 0)) + int(storage.get("failed", 0))
        if reply.code != "0" or left:
            verdict.not_stored += left or 1
            reasons = [r.get("reason") for r in (reply.payload or {}).get("results", [])]
            verdict.note(
                "not_stored",
                f"{batch.batch_no}: code {reply.code} {storage} {[r for r in reasons if r]}",
            )


def _census(http: httpx.Client, orgs: list[str], types: list[str]) -> list[Held]:
    """Every resource of ``types`` the hospitals' records put in HAPI, with identifiers and status."""
    held: list[Held] = []
    for rtype in types:
        for org in orgs:
            url: str | None = rtype
            params: dict[str, Any] | None = {
                "_tag": f"{REPORTING_ORG_TAG}|{org}",
                "_elements": "identifier,status",
                "_count": 500,
            }
            while url:
                response = http.get(url, params=params, headers={"Cache-Control": "no-cache"})
                bundle = response.raise_for_status().json()
                for entry in bundle.get("entry", []):
                    resource = entry["resource"]
                    identifiers = tuple(
                        (str(i.get("system")), str(i.get("value")))
                        for i in resource.get("identifier", [])
                        if str(i.get("system", "")).startswith(RECORD_NAMESPACE)
                    )
                    held.append(
                        Held(
                            f"{rtype}/{resource['id']}",
                            resource.get("status"),
                            identifiers,
                        )
                    )
                url = next(
                    (link["url"] for link in bundle.get("link", []) if link["relation"] == "next"),
                    None,
                )
                params = None
    return held


def _holders(census: list[Held], verdict: Verdict) -> dict[tuple[str, str], list[Held]]:
    """Identifier → the resources carrying it; any identifier held twice is a duplicate."""
    holders: dict[tuple[str, str], list[Held]] = defaultdict(list)
    for held in census:
        for identifier in held.identifiers:
            holders[identifier].append(held)
    for identifier, found in holders.items():
        if len(found) > 1:
            verdict.duplicated += 1
            verdict.note("duplicated", f"{identifier[1]}: {[h.ref for h in found]}")
    return holders


def _compare(
    acknowledged: dict[tuple[str, str, str], Acknowledged],
    holders: dict[tuple[str, str], list[Held]],
    orgs: list[str],
    verdict: Verdict,
) -> None:
    expected = {
        (record_identifier_system(org, kind), record_id) for org, kind, record_id in acknowledged
    }
    for identifier in sorted(expected):
        found = holders.get(identifier, [])
        if not found:
            verdict.lost += 1
            verdict.note("lost", identifier[1])
        elif len(found) == 1:
            verdict.stored_once += 1
    systems = {record_identifier_system(org, kind) for org in orgs for kind in SERVICE_CODES}
    for identifier in holders:
        system, value = identifier
        if system in systems and "/" not in value and identifier not in expected:
            verdict.unexpected += 1
            verdict.note("unexpected", value)


def _versions(
    http: httpx.Client,
    acknowledged: dict[tuple[str, str, str], Acknowledged],
    holders: dict[tuple[str, str], list[Held]],
    verdict: Verdict,
) -> None:
    """The encounter shows the highest version; a corrected one never went back in its history."""
    for (org, kind, record_id), ack in acknowledged.items():
        if kind != "case":
            continue
        found = holders.get((record_identifier_system(org, kind), record_id), [])
        if len(found) != 1:
            continue  # lost or duplicated: counted already
        want = "finished" if "dischargeDateTime" in ack.record else "in-progress"
        if found[0].status != want:
            verdict.out_of_order += 1
            verdict.note("out_of_order", f"{record_id}: {found[0].status}, want {want}")
            continue
        if not ack.corrected:
            continue
        verdict.corrected += 1
        history = http.get(f"{found[0].ref}/_history", params={"_count": 100}).raise_for_status()
        # Newest first; read oldest first: once finished, a stay never went back in progress.
        statuses = [e["resource"].get("status") for e in history.json().get("entry", [])][::-1]
        if "finished" in statuses and "in-progress" in statuses[statuses.index("finished") :]:
            verdict.out_of_order += 1
            verdict.note("out_of_order", f"{record_id}: history {statuses}")


def _receipts_table(
    database: Database,
    acknowledged: dict[tuple[str, str, str], Acknowledged],
    holders: dict[tuple[str, str], list[Held]],
    orgs: list[str],
    verdict: Verdict,
) -> None:
    """The stored receipt of each record's latest version names the resource holding its id."""
    with database.session() as session:
        rows = session.execute(
            select(
                IntakeRecord.org_code,
                IntakeRecord.service_code,
                IntakeRecord.record_id,
                IntakeRecord.record_version,
                IntakeRecord.status,
                IntakeRecord.result_ref,
            ).where(IntakeRecord.org_code.in_(orgs))
        ).all()
    statuses = Counter(row.status for row in rows)
    for status in ("accepted", "failed"):
        if statuses[status]:
            verdict.receipts_inconsistent += statuses[status]
            verdict.note("receipts_inconsistent", f"{statuses[status]} receipts {status}")
    for row in rows:
        kind = KIND_OF_SERVICE.get(row.service_code, "")
        ack = acknowledged.get((row.org_code, kind, row.record_id))
        if ack is None:
            verdict.receipts_inconsistent += 1
            verdict.note("receipts_inconsistent", f"receipt of unacknowledged {row.record_id}")
            continue
        if row.status != "stored" or row.record_version != ack.version:
            continue
        found = holders.get((record_identifier_system(row.org_code, kind), row.record_id), [])
        if [h.ref for h in found] != [row.result_ref]:
            verdict.receipts_inconsistent += 1
            verdict.note(
                "receipts_inconsistent",
                f"{row.record_id}: receipt {row.result_ref}, HAPI {[h.ref for h in found]}",
            )
