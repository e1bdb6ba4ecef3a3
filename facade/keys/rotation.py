"""Master-key rotation: re-seal every sealed column in small batches, while the facade keeps running.

Every blob the facade stores encrypted is listed in ``SEALED_COLUMNS`` with the purpose its key
is derived for and the AAD that binds it to its row. A run walks each table in primary-key
order, one short transaction per batch: a blob the current key opens is left alone, one only the
previous key opens is sealed anew and written back *only if the row still holds the very blob
that was read* (a forwarder may have wiped a payload meanwhile; it must stay wiped). So a run
can stop anywhere and be started again: it is idempotent, and the second run re-seals only what
the first did not reach. Blobs no configured key opens are counted, never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal, select, update
from sqlalchemy.orm import InstrumentedAttribute

from facade.console.tables import ConsoleUser
from facade.console.users import TOTP_SECRETS
from facade.db import Database
from facade.excel.imports import ERROR_WORKBOOKS
from facade.excel.tables import ExcelImport
from facade.mapping.facts import FACTS_PURPOSE
from facade.mapping.tables import MappingFact
from facade.native.crypto import DecryptionFailed
from facade.native.sealing import APP_SECRETS, RECORD_PAYLOADS, SecretBox
from facade.native.tables import IntakeRecord, NativeApp, NativeAppKey
from facade.quality.recorder import FACTS_PURPOSE as QUALITY_FACTS_PURPOSE
from facade.quality.tables import DqRecord
from facade.settings import Settings


@dataclass(frozen=True)
class SealedColumn:
    """One encrypted column: how to list its rows (pk, blob, aad) and which key purpose seals it."""

    name: str
    purpose: str
    pk: InstrumentedAttribute[Any]
    blob: InstrumentedAttribute[Any]
    rows: Callable[[], Any]  # a Select of (pk, blob, aad parts...) of rows with a blob

    def aad(self, row: Any) -> str:
        """The AAD the blob was sealed with: its parts joined by ``|``."""
        return "|".join(str(part) for part in row[2:])


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(
        "native_app_key.secret_sealed",
        APP_SECRETS,
        NativeAppKey.id,
        NativeAppKey.secret_sealed,
        lambda: select(
            NativeAppKey.id, NativeAppKey.secret_sealed, NativeApp.app_id, NativeAppKey.key_version
        ).join(NativeApp, NativeApp.id == NativeAppKey.app_pk),
    ),
    SealedColumn(
        "intake_record.payload_sealed",
        RECORD_PAYLOADS,
        IntakeRecord.seq,
        IntakeRecord.payload_sealed,
        lambda: select(IntakeRecord.seq, IntakeRecord.payload_sealed, IntakeRecord.receipt_id),
    ),
    SealedColumn(
        "mapping_fact.facts_sealed",
        FACTS_PURPOSE,
        MappingFact.id,
        MappingFact.facts_sealed,
        lambda: select(
            MappingFact.id,
            MappingFact.facts_sealed,
            MappingFact.org_code,
            MappingFact.record_type,
            MappingFact.record_id,
            MappingFact.payload_digest,
        ),
    ),
    SealedColumn(
        "excel_import.error_workbook_sealed",
        ERROR_WORKBOOKS,
        ExcelImport.id,
        ExcelImport.error_workbook_sealed,
        lambda: select(ExcelImport.id, ExcelImport.error_workbook_sealed, ExcelImport.id),
    ),
    SealedColumn(
        "dq_record.facts_sealed",
        QUALITY_FACTS_PURPOSE,
        DqRecord.id,
        DqRecord.facts_sealed,
        lambda: select(
            DqRecord.id,
            DqRecord.facts_sealed,
            DqRecord.org_code,
            DqRecord.record_type,
            DqRecord.record_key,
        ),
    ),
    SealedColumn(
        "console_user.totp_sealed",
        TOTP_SECRETS,
        ConsoleUser.id,
        ConsoleUser.totp_sealed,
        lambda: select(
            ConsoleUser.id, ConsoleUser.totp_sealed, literal("console-user"), ConsoleUser.id
        ),
    ),
)


@dataclass
class ColumnCount:
    """What one run found in one column."""

    current: int = 0  # already under the current master key
    resealed: int = 0  # were under the previous key, now under the current one
    unreadable: int = 0  # no configured key opens them
    skipped: int = 0  # changed by someone else between read and write (next run looks again)


@dataclass
class RotationReport:
    """Counts per sealed column; ``complete`` once nothing needs the previous key any more."""

    columns: dict[str, ColumnCount] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every blob opens with the current key alone."""
        return all(c.resealed == c.unreadable == c.skipped == 0 for c in self.columns.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``--json``."""
        return {name: vars(count) for name, count in self.columns.items()}


def _batches(database: Database, column: SealedColumn, size: int) -> Iterator[list[Any]]:
    """Rows with a blob, ``size`` at a time in primary-key order (keyset paging)."""
    last: Any = None
    while True:
        query = column.rows().where(column.blob.is_not(None)).order_by(column.pk).limit(size)
        if last is not None:
            query = query.where(column.pk > last)
        with database.session() as session:
            rows = list(session.execute(query))
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _walk(
    settings: Settings, database: Database, batch_size: int, *, write: bool
) -> RotationReport:
    report = RotationReport()
    for column in SEALED_COLUMNS:
        box = SecretBox.for_purpose(settings, column.purpose)
        count = report.columns.setdefault(column.name, ColumnCount())
        for rows in _batches(database, column, batch_size):
            fresh: list[tuple[Any, bytes, bytes]] = []
            for row in rows:
                try:
                    blob = box.reseal(row[1], column.aad(row))
                except DecryptionFailed:
                    count.unreadable += 1
                    continue
                if blob is None:
                    count.current += 1
                else:
                    fresh.append((row[0], row[1], blob))
            if not write:
                count.resealed += len(fresh)  # "would re-seal"
                continue
            with database.session() as session:
                for pk, old, new in fresh:
                    changed = session.execute(
                        update(column.pk.class_)
                        .where(column.pk == pk, column.blob == old)
                        .values({column.blob.key: new})
                    )
                    if changed.rowcount == 1:  # type: ignore[attr-defined]
                        count.resealed += 1
                    else:
                        count.skipped += 1
    return report


def rotate_master(
    settings: Settings, database: Database, *, batch_size: int = 200
) -> RotationReport:
    """Re-seal every blob still under ``previous_master_key`` with ``master_key``."""
    return _walk(settings, database, batch_size, write=True)


def seal_status(settings: Settings, database: Database, *, batch_size: int = 500) -> RotationReport:
    """Count blobs per key without changing anything (``resealed`` = would be re-sealed)."""
    return _walk(settings, database, batch_size, write=False)
