"""The import log: summaries of imported workbooks and their sealed, expiring error workbooks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from facade.db import Database
from facade.errors import NotFound
from facade.excel.assets import ExcelAssets
from facade.excel.errors_workbook import build_error_workbook
from facade.excel.importer import Importer, ImportResult, Progress, run_import
from facade.excel.layout import Layout
from facade.excel.tables import ExcelImport
from facade.native.processor import RecordProcessor
from facade.native.receipts import batches_storage
from facade.native.sealing import SecretBox
from facade.settings import Settings

ERROR_WORKBOOKS = "vte-x/excel-error-workbook/v1"
ERROR_WORKBOOK_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What the OpenAPI says a workbook download returns (FastAPI would otherwise declare JSON).
WORKBOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The workbook", "content": {ERROR_WORKBOOK_MEDIA_TYPE: {}}}
}


def error_workbook_path(import_id: str) -> str:
    """Where the error workbook of an import is fetched (relative to the facade's base URL)."""
    return f"/vte-x/v1/excel/imports/{import_id}/errors"


@dataclass(frozen=True)
class SavedImport:
    """An import as recorded: its id, the JSON summary, and the error workbook (None without errors)."""

    import_id: str
    summary: dict[str, Any]
    error_workbook: bytes | None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ImportLog:
    """Records imports; one row per (app, file digest), so re-importing a file keeps its import id."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.box = SecretBox.for_purpose(settings, ERROR_WORKBOOKS)

    def save(
        self,
        importer: Importer,
        result: ImportResult,
        layout: Layout,
        *,
        source: str,
        now: datetime | None = None,
    ) -> SavedImport:
        """Record ``result`` and build its error workbook; the same file from the same app updates its row."""
        now = now or datetime.now(UTC)
        expires = now + timedelta(hours=self.settings.excel_error_workbook_ttl_hours)
        with self.database.session() as session:
            earlier = session.execute(
                select(ExcelImport.id, ExcelImport.created_at).where(
                    ExcelImport.app_id == importer.app_id,
                    ExcelImport.file_digest == result.file_digest,
                )
            ).first()
        import_id = earlier[0] if earlier else uuid.uuid4().hex
        errors = result.errors
        workbook = (
            build_error_workbook(result, layout, import_id=import_id, created=now)
            if errors
            else None
        )
        summary = self.summary(importer, result, layout, import_id, expires if workbook else None)
        summary["firstReceivedAt"] = _stamp(_aware(earlier[1]) if earlier else now)
        values = {
            "app_id": importer.app_id,
            "org_code": importer.org_code,
            "source": source,
            "file_digest": result.file_digest,
            "template_version": result.template_version[:32],
            "status": result.status,
            "total": summary["total"],
            "success_count": summary["successCount"],
            "duplicate_count": summary["duplicateCount"],
            "fail_count": summary["failCount"],
            "error_count": summary["errorCount"],
            "summary": orjson.dumps(summary).decode(),
            "error_workbook_sealed": self.box.seal(workbook, import_id) if workbook else None,
            "expires_at": expires,
            "updated_at": now,
        }
        try:
            with self.database.session() as session:
                changed = session.execute(
                    update(ExcelImport).where(ExcelImport.id == import_id).values(**values)
                )
                if not changed.rowcount:  # type: ignore[attr-defined]
                    session.add(ExcelImport(id=import_id, created_at=now, **values))
        except IntegrityError:
            # The same file raced in twice: the other request's row stands, with the same content.
            return self.save(importer, result, layout, source=source, now=now)
        self.purge_expired(now)
        return SavedImport(import_id, summary, workbook)

    def summary(
        self,
        importer: Importer,
        result: ImportResult,
        layout: Layout,
        import_id: str,
        expires: datetime | None,
    ) -> dict[str, Any]:
        """The JSON answer of an import: counts per file and sheet, errors, per-record receipts."""
        errors = result.errors
        cap = self.settings.excel_max_errors_in_reply
        sheets = []
        for record_type in layout.record_types:
            statuses = [
                o.status
                for o in result.outcomes
                if o.parsed.record_type.record_type == record_type.record_type
            ]
            if statuses:
                sheets.append(
                    {
                        "sheet": layout.main_sheet(record_type.record_type).title,
                        "recordType": record_type.record_type,
                        "serviceCode": record_type.service_code,
                        "total": len(statuses),
                        "successCount": statuses.count("SUCCESS"),
                        "duplicateCount": statuses.count("DUPLICATE"),
                        "failCount": statuses.count("FAILED"),
                    }
                )
        link = None
        if expires is not None:
            link = {
                "href": self.settings.public_base_url + error_workbook_path(import_id),
                "expiresAt": _stamp(expires),
            }
        return {
            "importId": import_id,
            "replayed": result.replayed,
            "appId": importer.app_id,
            "orgCode": importer.org_code,
            "fileDigest": result.file_digest,
            "templateVersion": result.template_version,
            "templateCurrent": result.template_current,
            "status": result.status,
            **result.counts(),
            "rows": result.rows,
            "sheets": sheets,
            "batches": result.batches,
            "errorCount": len(errors),
            "errors": [e.as_dict() for e in errors[:cap]],
            "errorsTruncated": len(errors) > cap,
            "errorWorkbook": link,
            "storage": batches_storage(self.database, importer.app_id, result.batches),
            "results": [o.as_dict() for o in result.outcomes],
        }

    def load_summary(self, import_id: str, org_code: str) -> dict[str, Any]:
        """The summary of an import of ``org_code`` with its records' current storage status;
        NotFound for any other institution."""
        row = self._row(import_id, org_code)
        summary: dict[str, Any] = orjson.loads(row.summary)
        summary["storage"] = batches_storage(self.database, row.app_id, summary["batches"])
        return summary

    def error_workbook(self, import_id: str, org_code: str, now: datetime | None = None) -> bytes:
        """The error workbook of an import of ``org_code``; NotFound when there is none or it expired."""
        row = self._row(import_id, org_code)
        now = now or datetime.now(UTC)
        if row.error_workbook_sealed is None or _aware(row.expires_at) <= now:
            raise NotFound("该导入没有错误工作簿，或已过期（请重新导入文件以重新生成）")
        return self.box.open(row.error_workbook_sealed, import_id)

    def purge_expired(self, now: datetime | None = None) -> int:
        """Wipe error workbooks past their expiry (剩余信息保护); returns how many."""
        now = now or datetime.now(UTC)
        with self.database.session() as session:
            result = session.execute(
                update(ExcelImport)
                .where(
                    ExcelImport.expires_at <= now, ExcelImport.error_workbook_sealed.is_not(None)
                )
                .values(error_workbook_sealed=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _row(self, import_id: str, org_code: str) -> ExcelImport:
        with self.database.session() as session:
            row = session.get(ExcelImport, import_id)
            if row is None or row.org_code != org_code:
                raise NotFound("没有这个导入编号")
            session.expunge(row)
            return row


def import_workbook(
    data: bytes,
    *,
    importer: Importer,
    assets: ExcelAssets,
    settings: Settings,
    database: Database,
    processor: RecordProcessor,
    source: str,
    filename: str | None = None,
    progress: Progress | None = None,
    accepted: Callable[[], None] | None = None,
) -> SavedImport:
    """Import a workbook and record it in the import log (the one entry point of the API and the CLI).

    ``accepted`` is called after each stored batch commits (the forwarder's doorbell).
    """
    result = run_import(
        data,
        importer=importer,
        dictionary=assets.dictionary,
        layout=assets.layout,
        settings=settings,
        database=database,
        processor=processor,
        filename=filename,
        progress=progress,
        accepted=accepted,
    )
    return ImportLog(settings, database).save(importer, result, assets.layout, source=source)
