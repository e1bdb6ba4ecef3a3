"""Send a synthetic region through the real pipeline: register its hospitals, upload signed batches.

Each hospital is registered like a real one (Organization published to HAPI, institution and app
in the facade database), then its records go, record type by record type in dependency order,
through the native gateway with HMAC-SM3 signatures. ``wait_stored`` polls VTE.BATCH.QUERY until
the forwarder has written every accepted record to HAPI, for as long as records keep being stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from facade.db import Database
from facade.errors import FacadeError
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.settings import Settings, ensure_secrets
from facade.synth.generator import Region
from facade.synth.records import RECORD_TYPES, SERVICE_CODES
from facade.upstream import UpstreamClient

GATEWAY_PATH = "/vte-x/v1/gateway"


class PushError(FacadeError):
    """A record was refused, failed upstream, or the forwarder stopped making progress."""


@dataclass(frozen=True)
class HospitalApp:
    """The app credential a synthetic hospital uploads with."""

    org_code: str
    app_id: str
    secret: str


@dataclass
class PushResult:
    """What was sent: batches per hospital and record counts."""

    batches: dict[str, list[str]] = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0


async def register_region(
    settings: Settings, database: Database, upstream: UpstreamClient, region: Region
) -> dict[str, HospitalApp]:
    """Publish each hospital's Organization, admit it and issue one app (idempotent per hospital)."""
    box = SecretBox.for_purpose(ensure_secrets(settings), APP_SECRETS)
    apps: dict[str, HospitalApp] = {}
    for hospital in region.hospitals:
        with database.session() as session:
            known = orgs.find_org(session, hospital.org_code)
            known_id = known.fhir_id if known is not None else None
        fhir_id = await orgs.publish_organization(
            upstream,
            hospital.org_code,
            hospital.name,
            hospital.grade,
            active=True,
            fhir_id=known_id,
        )
        with database.session() as session:
            if orgs.find_org(session, hospital.org_code) is None:
                orgs.add_org(
                    session, hospital.org_code, hospital.name, grade=hospital.grade, fhir_id=fhir_id
                )
            issued = credentials.issue_app(
                session,
                box,
                hospital.org_code,
                name=f"{hospital.name} VTE 系统",
                sign_types=("HMAC-SM3",),
            )
        apps[hospital.org_code] = HospitalApp(hospital.org_code, issued.app_id, issued.secret)
    return apps


def upload_region(
    region: Region,
    apps: Mapping[str, HospitalApp],
    http: Any,
    *,
    url: str = GATEWAY_PATH,
    batch_size: int = 200,
) -> PushResult:
    """Upload every record; raise PushError naming the first refused record."""
    started = time.perf_counter()
    result = PushResult()
    tag = f"S{region.spec.seed}{region.org_codes[0][-6:]}"
    for org, kinds in region.records().items():
        client = _client(apps[org], http, url)
        sent: list[str] = []
        for kind in RECORD_TYPES:
            records = kinds[kind]
            for start in range(0, len(records), batch_size):
                batch_no = f"{tag}-{org[-4:]}-{kind}-{start // batch_size}"
                reply = client.upload(
                    SERVICE_CODES[kind], batch_no, records[start : start + batch_size]
                )
                _check(reply.code, reply.payload, org, kind)
                sent.append(batch_no)
                result.records += len(records[start : start + batch_size])
        result.batches[org] = sent
    result.seconds = time.perf_counter() - started
    return result


def wait_stored(
    result: PushResult,
    apps: Mapping[str, HospitalApp],
    http: Any,
    *,
    url: str = GATEWAY_PATH,
    stall_seconds: float = 300.0,
    interval: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Poll until the forwarder has stored every accepted record, calling ``progress(stored,
    total)`` after each look. PushError when a record failed upstream, or when no record was
    stored for ``stall_seconds`` (a slow forwarder that moves is waited for, however long)."""
    pending = {(org, batch) for org, batches in result.batches.items() for batch in batches}
    clients = {org: _client(apps[org], http, url) for org in result.batches}
    stored: dict[tuple[str, str], int] = {}
    best, moved = -1, time.monotonic()
    while pending:
        for org, batch in sorted(pending):
            reply = clients[org].query_batch(batch)
            storage = (reply.payload or {}).get("storage") or {}
            if storage.get("failed"):
                reasons = [
                    r.get("reason")
                    for r in (reply.payload or {}).get("results", [])
                    if r.get("reason")
                ]
                raise PushError(
                    f"batch {batch} of {org}: {storage['failed']} record(s) failed upstream: {reasons[:3]}"
                )
            stored[(org, batch)] = int(storage.get("stored", 0))
            if storage.get("accepted", 1) == 0:
                pending.discard((org, batch))
        done = sum(stored.values())
        if progress is not None:
            progress(done, result.records)
        if done > best:
            best, moved = done, time.monotonic()
        elif pending and time.monotonic() - moved > stall_seconds:
            raise PushError(
                f"no record stored for {stall_seconds:.0f} s ({done} of {result.records} stored, "
                f"{len(pending)} batch(es) waiting): is the forwarder running and HAPI up? "
                "`vte-facade forward status` shows the backlog"
            )
        if pending:
            time.sleep(interval)


def _client(app: HospitalApp, http: Any, url: str) -> VteXClient:
    return VteXClient(
        url,
        app_id=app.app_id,
        org_code=app.org_code,
        secret=app.secret,
        sign_type="HMAC-SM3",
        http=http,
    )


def _check(code: str, payload: dict[str, Any] | None, org: str, kind: str) -> None:
    if code != "0" or payload is None:
        raise PushError(f"{kind} upload of {org} refused as a whole: code {code}")
    if payload.get("failCount"):
        failed = next(r for r in payload["results"] if r.get("status") == "FAILED")
        raise PushError(
            f"{kind} record {failed.get('recordId')} of {org} refused: {failed.get('errors') or failed}"
        )
