"""The ingest benchmark's baseline: the forwarder's own bundles posted straight to HAPI.

Records of a synthetic region are prepared and mapped exactly as the gateway and the forwarder
do (``prepare_payload``, ``MappingEngine.plan``, ``Planned.address`` with derived ids), cut into
the same transactions (``facade.forward.bundles.transactions``) and posted with the same
concurrency, ordering rule (``Dispatcher``) and trusted-write header. Mapping happens before the
clock starts: the baseline is HAPI's write speed for those Bundles and nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.indicator_load import MemoryLinks
from facade.forward.bundles import Planned, Transaction, transactions
from facade.forward.dispatch import Dispatcher
from facade.forward.ids import Ids
from facade.forward.worker import TRUSTED_WRITE_HEADER
from facade.mapping.engine import MappingEngine
from facade.mapping.prepare import prepare_payload
from facade.native.receipts import ClaimedRecord
from facade.settings import Settings
from facade.synth.generator import Region
from facade.synth.records import RECORD_TYPES
from facade.upstream import UpstreamClient


@dataclass
class DirectResult:
    """What the baseline wrote and how long HAPI took."""

    records: int
    resources: int
    transactions: int
    seconds: float

    @property
    def rate(self) -> float:
        """Resources per second."""
        return self.resources / self.seconds if self.seconds else 0.0


def region_records(region: Region) -> list[tuple[str, str, dict[str, Any]]]:
    """(org code, record type, native record) in sending order: each hospital's records type by
    type (its organization first), as ``facade.synth.push.upload_region`` sends them."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for org, kinds in region.records().items():
        for kind in RECORD_TYPES:
            found.extend((org, kind, record) for record in kinds.get(kind, []))
    return found


def planned_records(settings: Settings, region: Region) -> list[Planned]:
    """Every record of the region mapped and addressed as the forwarder would."""
    engine = MappingEngine.from_settings(settings)
    key = settings.secret("pseudonym_key")
    links = MemoryLinks(engine)
    planned: list[Planned] = []
    for number, (org, kind, record) in enumerate(region_records(region)):
        rt = engine.record_type(kind)
        payload, _ = prepare_payload(engine, rt, record, key)
        links.remember(org, kind, payload)
        plan = engine.plan(rt, payload, org, links.bound(org))
        claimed = ClaimedRecord(
            receipt_id=f"direct-{number}",
            lease_token="direct",  # noqa: S106  (not a secret: no lease)
            lease_until_ms=0,
            attempts=1,
            app_id="direct",
            org_code=org,
            service_code=rt.service_code,
            record_id=str(payload["recordId"]),
            record_version=1,
            batch_id="direct",
            record_index=number,
            payload=payload,
        )
        item = Planned(claimed, plan)
        item.address(Ids("derived"))
        planned.append(item)
    return planned


async def post_direct(
    settings: Settings, planned: list[Planned], *, max_entries: int, concurrency: int
) -> DirectResult:
    """Post the transactions with ``concurrency`` in flight; raise on the first refusal."""
    txs = transactions(planned, max_entries)
    key = settings.hapi_trusted_write_key
    headers = {TRUSTED_WRITE_HEADER: key.get_secret_value()} if key else {}
    upstream = UpstreamClient(settings)
    dispatcher = Dispatcher(concurrency)

    async def send(tx: Transaction) -> None:
        bundle, _ = tx.bundle()
        await upstream.request("POST", "", json=bundle, headers=headers)

    try:
        started = time.perf_counter()
        for tx in txs:
            await dispatcher.submit(tx.keys, lambda tx=tx: send(tx))  # type: ignore[misc]
        await dispatcher.join()
        seconds = time.perf_counter() - started
    finally:
        await upstream.aclose()
    return DirectResult(
        records=len(planned),
        resources=sum(t.size for t in txs),
        transactions=len(txs),
        seconds=seconds,
    )
