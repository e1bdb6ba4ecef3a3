"""Read-only queries over the intake tables, shared by the CLI, the JSON API and the console.

Nothing here needs an app secret: callers are operators (CLI), authenticated API clients or
console users, and the caller decides which institution they may see (``org=None`` is every
institution). Times are given in the reporting zone (``mapping_utc_offset``, +08:00 in China).

A record's life: refused at intake (``failed``, stage ``intake``, with the rule it broke), or
accepted with a receipt, then ``stored`` in HAPI or ``failed`` there (stage ``storage``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal, Protocol, TypeVar, cast

import orjson
from sqlalchemy import func, select

from facade.db import Database
from facade.errors import Forbidden, InvalidInput, Issue
from facade.excel.imports import ImportLog, error_workbook_path
from facade.excel.tables import ExcelImport
from facade.native.tables import IntakeBatch, IntakeRecord, NativeOrg
from facade.settings import Settings


class _Filterable(Protocol):
    def where(self, *clauses: Any) -> Any: ...


_Query = TypeVar("_Query", bound=_Filterable)
RecordStatus = Literal["accepted", "stored", "failed"]
STATUSES: tuple[RecordStatus, ...] = ("accepted", "stored", "failed")
# Excel batches are numbered X<first 26 hex of the file's SM3>-... (facade.excel.importer).
_EXCEL_PREFIX = 27


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zone(settings: Settings) -> timezone:
    """The reporting time zone (``+08:00``)."""
    sign = -1 if settings.mapping_utc_offset.startswith("-") else 1
    hours, minutes = settings.mapping_utc_offset[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def parse_status(value: str | None) -> RecordStatus | None:
    """A record status from a filter (any case); InvalidInput naming the choices otherwise."""
    if value is None or not value.strip():
        return None
    lowered = value.strip().lower()
    for status in STATUSES:
        if status == lowered:
            return status
    raise InvalidInput(
        f"status {value!r} is not one of {', '.join(STATUSES)}",
        issues=[Issue("status", "choice", f"one of {', '.join(STATUSES)}")],
    )


@dataclass(frozen=True)
class Batch:
    """One upload batch (gateway or Excel chunk) with its records' current storage states."""

    batch_no: str
    app_id: str
    org_code: str
    service_code: str
    source: str  # gateway | excel
    received_at: datetime
    total: int
    success_count: int
    fail_count: int
    storage: dict[str, int]

    def as_dict(self, tz: timezone) -> dict[str, Any]:
        """JSON form."""
        return {
            "batchNo": self.batch_no,
            "appId": self.app_id,
            "orgCode": self.org_code,
            "serviceCode": self.service_code,
            "source": self.source,
            "receivedAt": self.received_at.astimezone(tz).isoformat(timespec="seconds"),
            "total": self.total,
            "successCount": self.success_count,
            "failCount": self.fail_count,
            "storage": self.storage,
        }


@dataclass(frozen=True)
class RecordRow:
    """One record of a batch: its receipt (if accepted) and where it stands."""

    org_code: str
    app_id: str
    batch_no: str
    service_code: str
    record_id: str
    record_version: int | None
    receipt_id: str | None
    status: RecordStatus
    stage: str  # intake | storage
    code: str | None
    reason: str | None
    received_at: datetime
    stored_at: datetime | None

    def as_dict(self, tz: timezone) -> dict[str, Any]:
        """JSON form."""
        return {
            "orgCode": self.org_code,
            "appId": self.app_id,
            "batchNo": self.batch_no,
            "serviceCode": self.service_code,
            "recordId": self.record_id,
            "recordVersion": self.record_version,
            "receiptId": self.receipt_id,
            "status": self.status.upper(),
            "stage": self.stage,
            "code": self.code,
            "reason": self.reason,
            "receivedAt": self.received_at.astimezone(tz).isoformat(timespec="seconds"),
            "storedAt": self.stored_at.astimezone(tz).isoformat(timespec="seconds")
            if self.stored_at
            else None,
        }


@dataclass(frozen=True)
class Import:
    """One imported workbook and whether its error workbook can still be fetched."""

    import_id: str
    app_id: str
    org_code: str
    source: str
    status: str
    template_version: str
    total: int
    success_count: int
    duplicate_count: int
    fail_count: int
    error_count: int
    imported_at: datetime
    error_workbook_until: datetime | None

    def as_dict(self, tz: timezone) -> dict[str, Any]:
        """JSON form (the error workbook's path when it has not expired)."""
        return {
            "importId": self.import_id,
            "appId": self.app_id,
            "orgCode": self.org_code,
            "source": self.source,
            "status": self.status,
            "templateVersion": self.template_version,
            "total": self.total,
            "successCount": self.success_count,
            "duplicateCount": self.duplicate_count,
            "failCount": self.fail_count,
            "errorCount": self.error_count,
            "importedAt": self.imported_at.astimezone(tz).isoformat(timespec="seconds"),
            "errorWorkbook": {
                "path": error_workbook_path(self.import_id),
                "expiresAt": self.error_workbook_until.astimezone(tz).isoformat(timespec="seconds"),
            }
            if self.error_workbook_until
            else None,
        }


class Submissions:
    """Queries over batches, receipts and imports; ``org`` None means every institution."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.tz = zone(settings)

    # -- lists

    def batches(
        self,
        org: str | None,
        *,
        since: datetime | None = None,
        service: str | None = None,
        limit: int = 100,
    ) -> list[Batch]:
        """Batches, newest first."""
        query = select(IntakeBatch).order_by(IntakeBatch.created_at.desc(), IntakeBatch.id)
        query = _scoped(query, IntakeBatch.org_code, org)
        if since is not None:
            query = query.where(IntakeBatch.created_at >= since)
        if service:
            query = query.where(IntakeBatch.service_code == service)
        with self.database.session() as session:
            rows = list(session.scalars(query.limit(max(1, limit))))
            storage = self._storage(session, [r.id for r in rows])
            excel = self._excel_digests(session, {r.app_id for r in rows})
        return [
            Batch(
                batch_no=r.batch_no,
                app_id=r.app_id,
                org_code=r.org_code,
                service_code=r.service_code,
                source="excel" if (r.app_id, r.batch_no[1:_EXCEL_PREFIX]) in excel else "gateway",
                received_at=_aware(r.created_at),
                total=r.total,
                success_count=r.success_count,
                fail_count=r.fail_count,
                storage=storage.get(r.id, dict.fromkeys(STATUSES, 0)),
            )
            for r in rows
        ]

    def records(
        self,
        org: str | None,
        *,
        status: RecordStatus | None = None,
        batch_no: str | None = None,
        limit: int = 100,
    ) -> list[RecordRow]:
        """Records, newest first: receipts, plus records refused at intake when failures are asked for."""
        limit = max(1, limit)
        out: list[RecordRow] = []
        with self.database.session() as session:
            query = (
                select(IntakeRecord, IntakeBatch.batch_no)
                .join(IntakeBatch, IntakeBatch.id == IntakeRecord.batch_id)
                .order_by(IntakeRecord.seq.desc())
            )
            query = _scoped(query, IntakeRecord.org_code, org)
            if status is not None:
                query = query.where(IntakeRecord.status == status)
            if batch_no:
                query = query.where(IntakeBatch.batch_no == batch_no)
            for row, number in session.execute(query.limit(limit)):
                out.append(
                    RecordRow(
                        org_code=row.org_code,
                        app_id=row.app_id,
                        batch_no=number,
                        service_code=row.service_code,
                        record_id=row.record_id,
                        record_version=row.record_version,
                        receipt_id=row.receipt_id,
                        status=cast(RecordStatus, row.status),
                        stage="storage",
                        code=None,
                        reason=row.reason,
                        received_at=_aware(row.created_at),
                        stored_at=_aware(row.stored_at) if row.stored_at else None,
                    )
                )
            if status in (None, "failed"):
                out.extend(self._refused(session, org, batch_no, limit))
        out.sort(key=lambda r: (r.received_at, r.batch_no, r.record_id), reverse=True)
        return out[:limit]

    def imports(
        self, org: str | None, *, limit: int = 50, now: datetime | None = None
    ) -> list[Import]:
        """Excel imports, newest first."""
        now = now or datetime.now(UTC)
        query = select(ExcelImport).order_by(ExcelImport.created_at.desc(), ExcelImport.id)
        query = _scoped(query, ExcelImport.org_code, org)
        with self.database.session() as session:
            rows = list(session.scalars(query.limit(max(1, limit))))
        return [
            Import(
                import_id=r.id,
                app_id=r.app_id,
                org_code=r.org_code,
                source=r.source,
                status=r.status,
                template_version=r.template_version,
                total=r.total,
                success_count=r.success_count,
                duplicate_count=r.duplicate_count,
                fail_count=r.fail_count,
                error_count=r.error_count,
                imported_at=_aware(r.updated_at),
                error_workbook_until=_aware(r.expires_at)
                if r.error_workbook_sealed is not None and _aware(r.expires_at) > now
                else None,
            )
            for r in rows
        ]

    def import_org(self, import_id: str) -> str | None:
        """The institution an import belongs to (None when there is no such import)."""
        with self.database.session() as session:
            return session.scalar(select(ExcelImport.org_code).where(ExcelImport.id == import_id))

    def error_workbook(self, import_id: str, org: str) -> bytes:
        """The error workbook of one of ``org``'s imports; NotFound when absent or expired."""
        return ImportLog(self.settings, self.database).error_workbook(import_id, org)

    # -- summaries (the console's Submissions page)

    def hospitals(
        self, org: str | None, *, days: int = 30, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Per institution: last upload and import, batches and records in the window, receipts, backlog."""
        now = now or datetime.now(UTC)
        since = now - timedelta(days=days)
        with self.database.session() as session:
            orgs = session.execute(
                _scoped(
                    select(NativeOrg.org_code, NativeOrg.name, NativeOrg.status),
                    NativeOrg.org_code,
                    org,
                ).order_by(NativeOrg.org_code)
            ).all()
            last_upload: dict[str, datetime] = dict(
                session.execute(
                    _scoped(
                        select(IntakeBatch.org_code, func.max(IntakeBatch.created_at)),
                        IntakeBatch.org_code,
                        org,
                    ).group_by(IntakeBatch.org_code)
                ).all()
            )
            last_import: dict[str, datetime] = dict(
                session.execute(
                    _scoped(
                        select(ExcelImport.org_code, func.max(ExcelImport.updated_at)),
                        ExcelImport.org_code,
                        org,
                    ).group_by(ExcelImport.org_code)
                ).all()
            )
            window = {
                code: (int(n), int(records or 0), int(failed or 0))
                for code, n, records, failed in session.execute(
                    _scoped(
                        select(
                            IntakeBatch.org_code,
                            func.count(),
                            func.sum(IntakeBatch.total),
                            func.sum(IntakeBatch.fail_count),
                        ).where(IntakeBatch.created_at >= since),
                        IntakeBatch.org_code,
                        org,
                    ).group_by(IntakeBatch.org_code)
                )
            }
            receipts: dict[str, dict[str, int]] = {}
            for code, status, count in session.execute(
                _scoped(
                    select(IntakeRecord.org_code, IntakeRecord.status, func.count()),
                    IntakeRecord.org_code,
                    org,
                ).group_by(IntakeRecord.org_code, IntakeRecord.status)
            ):
                receipts.setdefault(code, dict.fromkeys(STATUSES, 0))[status] = int(count)
            oldest: dict[str, datetime] = dict(
                session.execute(
                    _scoped(
                        select(IntakeRecord.org_code, func.min(IntakeRecord.created_at)).where(
                            IntakeRecord.status == "accepted"
                        ),
                        IntakeRecord.org_code,
                        org,
                    ).group_by(IntakeRecord.org_code)
                ).all()
            )
        rows = []
        for code, name, state in orgs:
            batches, records, refused = window.get(code, (0, 0, 0))
            counts = receipts.get(code, dict.fromkeys(STATUSES, 0))
            rows.append(
                {
                    "orgCode": code,
                    "name": name,
                    "status": state,
                    "lastUpload": self._local(last_upload.get(code)),
                    "lastImport": self._local(last_import.get(code)),
                    "windowDays": days,
                    "batches": batches,
                    "records": records,
                    "refused": refused,
                    "receipts": counts,
                    "backlog": counts["accepted"],
                    "oldestBacklog": self._local(oldest.get(code)),
                }
            )
        return rows

    def daily(
        self, org: str | None, *, days: int = 30, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Batches, records and refused records per local day of the window (every day, zeros too)."""
        now = now or datetime.now(UTC)
        today = now.astimezone(self.tz).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, datetime.min.time(), self.tz)
        per_day = {first + timedelta(days=i): [0, 0, 0] for i in range(days)}
        query = _scoped(
            select(IntakeBatch.created_at, IntakeBatch.total, IntakeBatch.fail_count).where(
                IntakeBatch.created_at >= since
            ),
            IntakeBatch.org_code,
            org,
        )
        with self.database.session() as session:
            for created, total, failed in session.execute(query):
                day = _aware(created).astimezone(self.tz).date()
                if day in per_day:
                    per_day[day][0] += 1
                    per_day[day][1] += total
                    per_day[day][2] += failed
        return [
            {"day": day.isoformat(), "batches": b, "records": r, "refused": f}
            for day, (b, r, f) in sorted(per_day.items())
        ]

    def failure_reasons(
        self, org: str | None, *, days: int = 30, top: int = 10, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The most frequent reasons records failed (at intake or in storage) in the window."""
        now = now or datetime.now(UTC)
        since = now - timedelta(days=days)
        counted: Counter[tuple[str, str, str]] = Counter()
        with self.database.session() as session:
            for row in self._refused(session, org, None, None, since=since):
                counted[(row.stage, row.code or "", row.reason or "")] += 1
            query = _scoped(
                select(IntakeRecord.reason, func.count()).where(
                    IntakeRecord.status == "failed", IntakeRecord.created_at >= since
                ),
                IntakeRecord.org_code,
                org,
            ).group_by(IntakeRecord.reason)
            for reason, count in session.execute(query):
                counted[("storage", "", reason or "")] += int(count)
        return [
            {"stage": stage, "code": code or None, "reason": reason, "count": count}
            for (stage, code, reason), count in counted.most_common(top)
        ]

    def backlog(self) -> dict[str, Any]:
        """Accepted records the forwarder has not stored yet (the whole platform)."""
        with self.database.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(IntakeRecord.created_at)).where(
                    IntakeRecord.status == "accepted"
                )
            ).one()
        return {"accepted": int(count), "oldest": self._local(oldest)}

    # -- internals

    def _local(self, moment: datetime | None) -> str | None:
        return _aware(moment).astimezone(self.tz).isoformat(timespec="seconds") if moment else None

    def _storage(self, session: Any, batch_ids: list[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        if not batch_ids:
            return out
        query = (
            select(IntakeRecord.batch_id, IntakeRecord.status, func.count())
            .where(IntakeRecord.batch_id.in_(batch_ids))
            .group_by(IntakeRecord.batch_id, IntakeRecord.status)
        )
        for batch_id, status, count in session.execute(query):
            out.setdefault(batch_id, dict.fromkeys(STATUSES, 0))[status] = int(count)
        return out

    def _excel_digests(self, session: Any, app_ids: set[str]) -> set[tuple[str, str]]:
        if not app_ids:
            return set()
        query = select(ExcelImport.app_id, ExcelImport.file_digest).where(
            ExcelImport.app_id.in_(sorted(app_ids))
        )
        return {(app, digest[: _EXCEL_PREFIX - 1]) for app, digest in session.execute(query)}

    def _refused(
        self,
        session: Any,
        org: str | None,
        batch_no: str | None,
        limit: int | None,
        *,
        since: datetime | None = None,
    ) -> list[RecordRow]:
        """Records refused at intake, read from the stored replies of batches that had failures."""
        query = select(IntakeBatch).where(IntakeBatch.fail_count > 0)
        query = _scoped(query, IntakeBatch.org_code, org).order_by(IntakeBatch.created_at.desc())
        if batch_no:
            query = query.where(IntakeBatch.batch_no == batch_no)
        if since is not None:
            query = query.where(IntakeBatch.created_at >= since)
        out: list[RecordRow] = []
        for batch in session.scalars(query):
            for result in orjson.loads(batch.reply_biz).get("results", []):
                if result.get("status") != "FAILED":
                    continue
                out.append(
                    RecordRow(
                        org_code=batch.org_code,
                        app_id=batch.app_id,
                        batch_no=batch.batch_no,
                        service_code=batch.service_code,
                        record_id=str(result.get("recordId") or f"#{result.get('index')}"),
                        record_version=None,
                        receipt_id=None,
                        status="failed",
                        stage="intake",
                        code=str(result.get("code") or "") or None,
                        reason=_reason(result),
                        received_at=_aware(batch.created_at),
                        stored_at=None,
                    )
                )
            if limit is not None and len(out) >= limit:
                break
        return out


def _reason(result: dict[str, Any]) -> str:
    """``msg: field rule; field rule`` from a FAILED result of an upload reply."""
    details = []
    for error in result.get("errors") or []:
        details.append(" ".join(str(error.get(k) or "") for k in ("field", "code", "msg")).strip())
    head = str(result.get("msg") or "")
    return head + (": " + "; ".join(details) if details else "")


def _scoped(query: _Query, column: Any, org: str | None) -> _Query:
    """``query`` limited to one institution (unchanged for every institution)."""
    return query if org is None else cast(_Query, query.where(column == org))


def visible_org(role: str, own_org: str | None, requested: str | None) -> str | None:
    """Which institution a caller may list: qc and admin any (None: all), a hospital only itself."""
    if role in ("qc", "admin"):
        return requested or None
    if role == "hospital" and own_org:
        if requested not in (None, "", own_org):
            raise Forbidden("a hospital may only see its own submissions")
        return own_org
    raise Forbidden(f"role {role} may not read submissions")
