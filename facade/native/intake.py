"""Durable intake: a batch, its receipts and its reply are committed in one transaction (§2.6 steps 10–11)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from cryptography.hazmat.primitives import hashes
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facade.db import Database
from facade.db.statements import in_lists
from facade.db.tables import utcnow
from facade.errors import Issue
from facade.native.batch import RecordCheck, batch_payload, record_result
from facade.native.codes import Code, reject
from facade.native.processor import IntakeContext
from facade.native.reply import biz_text
from facade.native.sealing import SecretBox
from facade.native.tables import IntakeBatch, IntakeRecord, live_receipts
from facade.periods import ClosedRanges, closed_ranges


def sm3_hex(data: bytes) -> str:
    """SM3 digest as lower-case hex (the digest of payloads and prepared records)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@dataclass(frozen=True)
class Observed:
    """What became of one record of a stored batch, as an ``IntakeObserver`` sees it.

    ``status`` is SUCCESS (``payload`` is the prepared record), DUPLICATE (an unchanged re-send)
    or FAILED (``issues`` say why). ``record_id`` is "" when the record had no usable recordId.
    """

    index: int
    record_id: str
    version: int
    status: str
    payload: Any = None
    issues: Sequence[Issue] = ()


class IntakeObserver(Protocol):
    """Called inside the storage transaction of every new batch (data-quality counters)."""

    def observe(
        self,
        session: Session,
        context: IntakeContext,
        outcomes: Sequence[Observed],
        received_ms: int | None = None,
    ) -> None:
        """Record the batch's outcomes; raising rolls the whole batch back."""
        ...


@dataclass
class _Live:
    """A non-failed receipt of some version of a record (stored or from earlier in this batch)."""

    version: int
    digest: str
    receipt_id: str


class IntakeStore:
    """Writes processed batches; every record it accepts is committed before the reply is sent."""

    def __init__(
        self,
        database: Database,
        box: SecretBox,
        observer: IntakeObserver | None = None,
        *,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        self.database = database
        self.box = box
        self.observer = observer
        # Called after each stored batch has committed (the forwarder's doorbell).
        self.accepted = accepted

    def stored_reply(self, app_id: str, batch_no: str, digest: str) -> str | None:
        """The stored reply payload of a retried batch, None for a new one; 2006 if the content differs."""
        with self.database.session() as session:
            batch = _find(session, app_id, batch_no)
            return _replay(batch, digest) if batch else None

    def store(
        self,
        context: IntakeContext,
        digest: str,
        checks: Sequence[RecordCheck],
        *,
        received_ms: int | None = None,
    ) -> str:
        """Store the batch with a receipt per accepted record and return the reply payload text.

        Two identical batches racing each other: the loser's insert violates a unique key, and
        the retry then finds the winner's batch and answers with its reply (or 2006). The
        observer sees a new batch in the same transaction; ``received_ms`` is when it arrived.
        """
        when = received_ms if received_ms is not None else int(time.time() * 1000)
        try:
            with self.database.session() as session:
                reply = self._store(session, context, digest, checks, when)
        except IntegrityError:
            with self.database.session() as session:
                reply = self._store(session, context, digest, checks, when)
        if self.accepted is not None:
            self.accepted()
        return reply

    def _store(
        self,
        session: Session,
        context: IntakeContext,
        digest: str,
        checks: Sequence[RecordCheck],
        received_ms: int,
    ) -> str:
        existing = _find(session, context.app_id, context.batch_no)
        if existing is not None:
            return _replay(existing, digest)
        batch_id = uuid.uuid4().hex
        closed = closed_ranges(session, context.org_code)
        live = _live_versions(session, context, {c.record_id for c in checks if c.prepared})
        results = []
        rows: list[dict[str, Any]] = []
        seen: list[Observed] = []
        now = utcnow()
        for check in checks:
            if check.issues or check.prepared is None:
                results.append(record_result(check, "FAILED"))
                seen.append(_observed(check, "FAILED"))
                continue
            body = orjson.dumps(check.prepared.payload, option=orjson.OPT_SORT_KEYS)
            record_digest = sm3_hex(body)
            versions = live.setdefault(check.record_id, [])
            same = next((v for v in versions if v.version == check.version), None)
            if same is not None and same.digest == record_digest:
                results.append(record_result(check, "DUPLICATE", same.receipt_id))
                seen.append(_observed(check, "DUPLICATE"))
                continue
            problem = _version_problem(check, versions, same) or _lock_problem(closed, check)
            if problem is not None:
                check.issues.append(problem)
                results.append(record_result(check, "FAILED"))
                seen.append(_observed(check, "FAILED"))
                continue
            receipt_id = "R" + uuid.uuid4().hex
            versions.append(_Live(check.version, record_digest, receipt_id))
            rows.append(
                {
                    "receipt_id": receipt_id,
                    "batch_id": batch_id,
                    "record_index": check.index,
                    "app_id": context.app_id,
                    "org_code": context.org_code,
                    "service_code": context.service_code,
                    "record_id": check.record_id,
                    "record_version": check.version,
                    "status": "accepted",
                    "payload_sealed": self.box.seal(body, receipt_id),
                    "payload_digest": record_digest,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            results.append(record_result(check, "SUCCESS", receipt_id))
            seen.append(_observed(check, "SUCCESS"))
        payload = batch_payload(context.batch_no, results)
        reply = biz_text(payload)
        session.add(
            IntakeBatch(
                id=batch_id,
                app_id=context.app_id,
                org_code=context.org_code,
                service_code=context.service_code,
                batch_no=context.batch_no,
                payload_digest=digest,
                reply_biz=reply,
                total=payload["total"],
                success_count=payload["successCount"],
                fail_count=payload["failCount"],
            )
        )
        session.flush()  # the batch row first: receipts reference it
        if rows:  # one multi-row INSERT: the ORM's unit of work costs more than the rows
            session.execute(insert(IntakeRecord), rows)
        if self.observer is not None:
            self.observer.observe(session, context, seen, received_ms)
        return reply


def _observed(check: RecordCheck, status: str) -> Observed:
    payload = check.prepared.payload if status == "SUCCESS" and check.prepared else None
    return Observed(
        check.index, check.record_id, check.version, status, payload, tuple(check.issues)
    )


def _find(session: Session, app_id: str, batch_no: str) -> IntakeBatch | None:
    return session.scalar(
        select(IntakeBatch).where(IntakeBatch.app_id == app_id, IntakeBatch.batch_no == batch_no)
    )


def _replay(batch: IntakeBatch, digest: str) -> str:
    if batch.payload_digest != digest:
        raise reject(Code.BATCH_CONFLICT, "请使用新的 batchNo", field="bizContent.batchNo")
    return batch.reply_biz


def _live_versions(
    session: Session, context: IntakeContext, record_ids: set[str]
) -> dict[str, list[_Live]]:
    """The non-failed receipts of these records, by record id (one query per IN list)."""
    found: dict[str, list[_Live]] = {}
    for chunk in in_lists(record_ids):
        rows = session.execute(
            select(
                IntakeRecord.record_id,
                IntakeRecord.record_version,
                IntakeRecord.payload_digest,
                IntakeRecord.receipt_id,
            ).where(*live_receipts(context.org_code, context.service_code, chunk))
        )
        for record_id, version, digest, receipt in rows:
            found.setdefault(record_id, []).append(_Live(version, digest, receipt))
    return found


def _lock_problem(closed: ClosedRanges, check: RecordCheck) -> Issue | None:
    """3008 when the record belongs to a reporting period QC has closed (facade/periods)."""
    label = closed.locked_by(check.prepared.period_anchors if check.prepared else ())
    if label is None:
        return None
    return Issue(
        f"records[{check.index}]",
        "period-closed",
        f"所属期间 {label} 已由质控关闭，补报或更正须先由平台重新开放该期间",
        native_code=Code.RECORD_LOCKED.value,
    )


def _version_problem(check: RecordCheck, versions: list[_Live], same: _Live | None) -> Issue | None:
    """Corrections must raise recordVersion: a changed record under an old version would be lost silently."""
    path = f"records[{check.index}].recordVersion"
    code = Code.LOGIC_CHECK_FAILED
    if same is not None:
        return Issue(
            path,
            "version-reused",
            "该 recordVersion 已上报且内容不同：更正记录须递增 recordVersion",
            native_code=code.value,
        )
    newest = max((v.version for v in versions), default=None)
    if newest is not None and check.version < newest:
        return Issue(
            path,
            "version-stale",
            f"recordVersion 低于已上报的版本 {newest}",
            native_code=code.value,
        )
    return None
