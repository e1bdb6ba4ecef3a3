"""The hospital side of a fault run: the batches of a synthetic region, and a sender that keeps a ledger.

A sender behaves like a careful hospital interface: every batch is retried with the same
``batchNo`` until the platform acknowledges it (reply code 0). A batch whose request failed in
flight (connection cut, HTTP error, 5000/5001) is *in doubt*; before sending it again the sender
asks ``VTE.BATCH.QUERY`` whether the platform has it, and notes whether it was absent, complete
or partial. The ledger holds every acknowledged reply of every batch: the checker compares it
with the receipts and with HAPI.

Corrections: a share of the discharged cases is first sent at admission (version 1, no
discharge) and corrected after everything else (version 2, discharged), so the final state in
HAPI tells whether versions were applied in order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from facade.native.client import Reply, VteXClient
from facade.synth.generator import Region
from facade.synth.push import GATEWAY_PATH, HospitalApp
from facade.synth.records import RECORD_TYPES, SERVICE_CODES

CORRECTIONS = "case-v2"
# Whole-request outcomes that say "not processed, try again later" rather than "refused".
RETRY_CODES = {"5000", "5001", "1009"}
DISCHARGE_FIELDS = ("dischargeDateTime", "dischargeDeptCode", "dischargeDeptName")


@dataclass(frozen=True)
class Batch:
    """One upload: ``tier`` orders what must go before what (a case before its assessments)."""

    org: str
    kind: str
    batch_no: str
    records: list[dict[str, Any]]
    tier: int

    @property
    def service(self) -> str:
        """The service code the batch is uploaded with."""
        return SERVICE_CODES["case" if self.kind == CORRECTIONS else self.kind]


def plan_batches(
    region: Region, tag: str, *, batch_size: int = 50, correction_share: float = 0.1
) -> list[Batch]:
    """Every record of ``region`` in batches, tier by tier, with the corrections last."""
    batches: list[Batch] = []
    corrections: dict[str, list[dict[str, Any]]] = {}
    for org, kinds in region.records().items():
        for tier, kind in enumerate(RECORD_TYPES):
            records = list(kinds[kind])
            if kind == "case":
                records, corrections[org] = _admission_versions(records, correction_share)
            batches.extend(_cut(org, kind, records, tag, tier, batch_size))
    last = len(RECORD_TYPES)
    for org, records in corrections.items():
        batches.extend(_cut(org, CORRECTIONS, records, tag, last, batch_size))
    return batches


def _admission_versions(
    cases: list[dict[str, Any]], share: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every n-th discharged case goes first without its discharge (v1); its full form is v2."""
    step = max(round(1 / share), 1) if share > 0 else 0
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    discharged = 0
    for case in cases:
        if step and "dischargeDateTime" in case:
            discharged += 1
            if discharged % step == 0:
                admission = {
                    k: v
                    for k, v in case.items()
                    if k not in DISCHARGE_FIELDS and k != "dischargeDisposition"
                }
                first.append(admission)
                second.append({**case, "recordVersion": 2})
                continue
        first.append(case)
    return first, second


def _cut(
    org: str, kind: str, records: list[dict[str, Any]], tag: str, tier: int, size: int
) -> list[Batch]:
    return [
        Batch(org, kind, f"{tag}-{org[-4:]}-{kind}-{n}", records[start : start + size], tier)
        for n, start in enumerate(range(0, len(records), size))
    ]


def shuffled(batches: list[Batch], seed: int) -> list[Batch]:
    """The batches in another order that a hospital could send: shuffled within each tier."""
    rng = random.Random(seed)
    out: list[Batch] = []
    for tier in sorted({b.tier for b in batches}):
        level = [b for b in batches if b.tier == tier]
        rng.shuffle(level)
        out.extend(level)
    return out


@dataclass
class BatchLedger:
    """What one sender saw of one batch."""

    attempts: int = 0
    acks: list[dict[str, Any]] = field(default_factory=list)  # reply payloads with code 0
    refusals: list[str] = field(default_factory=list)  # other codes, e.g. 2006
    doubts: list[str] = field(default_factory=list)  # absent | complete | partial


@dataclass
class Ledger:
    """Per batchNo, what the sender saw; merged across senders for the check."""

    batches: dict[str, BatchLedger] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # transport errors, one line each

    def entry(self, batch_no: str) -> BatchLedger:
        """The ledger of one batch (created when first met)."""
        return self.batches.setdefault(batch_no, BatchLedger())

    def as_dict(self) -> dict[str, Any]:
        """Plain data (crosses process boundaries)."""
        return {"batches": {k: asdict(v) for k, v in self.batches.items()}, "errors": self.errors}

    @classmethod
    def merged(cls, parts: list[dict[str, Any]]) -> Ledger:
        """One ledger from several senders' ``as_dict`` outputs."""
        ledger = cls()
        for part in parts:
            ledger.errors.extend(part["errors"])
            for batch_no, seen in part["batches"].items():
                entry = ledger.entry(batch_no)
                entry.attempts += seen["attempts"]
                entry.acks.extend(seen["acks"])
                entry.refusals.extend(seen["refusals"])
                entry.doubts.extend(seen["doubts"])
        return ledger


class Sender:
    """Sends batches to one facade like a hospital interface that retries until acknowledged."""

    def __init__(
        self, url: str, apps: Mapping[str, HospitalApp], *, ledger: Ledger | None = None
    ) -> None:
        self.http = httpx.Client(timeout=httpx.Timeout(180.0, connect=5.0))
        self.clients = {
            org: VteXClient(
                url + GATEWAY_PATH,
                app_id=app.app_id,
                org_code=app.org_code,
                secret=app.secret,
                sign_type="HMAC-SM3",
                http=self.http,
            )
            for org, app in apps.items()
        }
        self.ledger = ledger or Ledger()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def send(
        self,
        batches: list[Batch],
        *,
        deadline_s: float = 900.0,
        after_ack: Callable[[int], None] | None = None,
    ) -> None:
        """Send each batch until acknowledged, in order; ``after_ack(n)`` runs after the n-th
        acknowledgement (scenarios inject their fault there). RuntimeError past the deadline."""
        deadline = time.monotonic() + deadline_s
        for n, batch in enumerate(batches, start=1):
            self._until_acknowledged(batch, deadline)
            if after_ack is not None:
                after_ack(n)

    def _until_acknowledged(self, batch: Batch, deadline: float) -> None:
        entry = self.ledger.entry(batch.batch_no)
        in_doubt = False
        pause = 0.2
        while True:
            if in_doubt:
                verdict = self._doubt(batch)
                if verdict is None:  # the platform still does not answer
                    in_doubt = True
                else:
                    entry.doubts.append(verdict)
                    in_doubt = False
            if not in_doubt:
                entry.attempts += 1
                reply = self._call(
                    lambda c: c.upload(batch.service, batch.batch_no, batch.records), batch
                )
                if reply is not None and reply.code == "0" and reply.payload is not None:
                    entry.acks.append(reply.payload)
                    return
                if reply is not None and reply.code not in RETRY_CODES:
                    entry.refusals.append(reply.code)
                    return  # refused as a whole: retrying the same content cannot help
                in_doubt = True
            if time.monotonic() > deadline:
                raise RuntimeError(f"batch {batch.batch_no} not acknowledged before the deadline")
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _doubt(self, batch: Batch) -> str | None:
        """Whether the platform holds an in-doubt batch: absent, complete or partial; None when
        it cannot say now."""
        reply = self._call(lambda c: c.query_batch(batch.batch_no), batch)
        if reply is None or reply.code in RETRY_CODES:
            return None
        if reply.code == "3006":  # no such batchNo under this appId
            return "absent"
        if reply.code != "0" or reply.payload is None:
            return None
        view = reply.payload
        whole = view.get("total") == len(batch.records) == len(view.get("results", []))
        return "complete" if whole else "partial"

    def _call(self, action: Callable[[VteXClient], Reply], batch: Batch) -> Reply | None:
        try:
            return action(self.clients[batch.org])
        except httpx.HTTPError as exc:
            self.ledger.errors.append(f"{batch.batch_no}: {type(exc).__name__}")
            return None


def send_in_process(
    url: str, apps: dict[str, dict[str, str]], batches: list[Batch], rounds: int, seed: int
) -> dict[str, Any]:
    """One sending process of the re-send scenario: ``rounds`` passes over every batch, each in
    its own order. Top-level so a process pool can run it; returns the ledger as plain data."""
    sender = Sender(url, {org: HospitalApp(**app) for org, app in apps.items()})
    try:
        for n in range(rounds):
            sender.send(shuffled(batches, seed * 100 + n))
    finally:
        sender.close()
    return sender.ledger.as_dict()
