"""The stay ledger in the facade database: read, replace and patch the rows of one period and region."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from facade.db import Database
from facade.db.statements import in_lists
from facade.errors import Conflict
from facade.indicators.tables import IndicatorLedger, LedgerStay


@dataclass(frozen=True)
class StayRow:
    """One stay of the ledger: where it is counted and its membership digits."""

    encounter: str  # Encounter/<id>
    patient: str | None
    org: str
    dept: str | None
    month: str
    members: str


@dataclass(frozen=True)
class Header:
    """A ledger's state: what it was computed from and up to when."""

    key: str
    fingerprint: str
    indicators: list[str]
    watermark: datetime
    stays: int
    seeded_at: datetime | None = None


def _aware(moment: datetime) -> datetime:
    # Stored in UTC (SQLite keeps no offset and hands back naive datetimes).
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LedgerStore:
    """The ledger tables of one facade database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def header(self, key: str) -> Header | None:
        """The ledger of ``key`` (None when none was seeded)."""
        with self.database.session() as session:
            row = session.get(IndicatorLedger, key)
            if row is None:
                return None
            return Header(
                row.key,
                row.fingerprint,
                row.indicators.split(","),
                _aware(row.watermark),
                row.stays,
                _aware(row.seeded_at),
            )

    def replace(
        self, key: str, period: str, region: str, header: Header, rows: Iterable[StayRow]
    ) -> int:
        """Write a freshly seeded ledger over any older one (one transaction); return its size."""
        values = [_values(key, r) for r in rows]
        now = datetime.now(UTC)
        with self.database.session() as session:
            _forget(session, key)
            session.add(
                IndicatorLedger(
                    key=key,
                    period=period,
                    region=region,
                    fingerprint=header.fingerprint,
                    indicators=",".join(header.indicators),
                    watermark=header.watermark.astimezone(UTC),
                    stays=len(values),
                    seeded_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            if values:
                session.execute(insert(LedgerStay), values)
        return len(values)

    def patch(
        self,
        key: str,
        since: datetime,
        watermark: datetime,
        rows: list[StayRow],
        removed: Iterable[str],
    ) -> int:
        """Replace the rows of the stays re-read, drop the stays gone, move the watermark from
        ``since`` (the one the refresh started from) to ``watermark``, in one transaction; return
        the ledger's new size.

        Conflict when another refresh moved the watermark meanwhile: rows read earlier must not
        overwrite rows read later (the next refresh starts from the newer state).
        """
        gone = set(removed) | {r.encounter for r in rows}
        with self.database.session() as session:
            header = session.get(IndicatorLedger, key, with_for_update=True)
            if header is None or _aware(header.watermark) != since.astimezone(UTC):
                raise Conflict(
                    f"the indicator ledger {key} was refreshed or reseeded by another run while "
                    "this one read HAPI; nothing of this run was kept: refresh again"
                )
            for chunk in in_lists(gone):
                session.execute(
                    delete(LedgerStay).where(
                        LedgerStay.ledger == key, LedgerStay.encounter.in_(chunk)
                    )
                )
            if rows:
                session.execute(insert(LedgerStay), [_values(key, r) for r in rows])
            size = session.scalar(
                select(func.count()).select_from(LedgerStay).where(LedgerStay.ledger == key)
            )
            header.watermark = watermark.astimezone(UTC)
            header.stays = int(size or 0)
            header.updated_at = datetime.now(UTC)
        return int(size or 0)

    def drop(self, key: str) -> None:
        """Forget a ledger (the next refresh seeds it again)."""
        with self.database.session() as session:
            _forget(session, key)

    def patients_of(self, key: str, encounters: Iterable[str]) -> dict[str, str]:
        """Patient of each of these stays that the ledger holds (with a patient)."""
        found: dict[str, str] = {}
        with self.database.session() as session:
            for chunk in in_lists(encounters):
                rows = session.execute(
                    select(LedgerStay.encounter, LedgerStay.patient).where(
                        LedgerStay.ledger == key, LedgerStay.encounter.in_(chunk)
                    )
                )
                found.update((encounter, patient) for encounter, patient in rows if patient)
        return found

    def stays_of(self, key: str, patients: Iterable[str]) -> set[str]:
        """Stays of the ledger that belong to these patients."""
        found: set[str] = set()
        with self.database.session() as session:
            for chunk in in_lists(patients):
                found.update(
                    session.scalars(
                        select(LedgerStay.encounter).where(
                            LedgerStay.ledger == key, LedgerStay.patient.in_(chunk)
                        )
                    )
                )
        return found

    def groups(self, key: str) -> list[tuple[str, str | None, str, str, int]]:
        """(org, dept, month, members, stays) of every distinct combination: what aggregation needs."""
        with self.database.session() as session:
            rows = session.execute(
                select(
                    LedgerStay.org,
                    LedgerStay.dept,
                    LedgerStay.month,
                    LedgerStay.members,
                    func.count(),
                )
                .where(LedgerStay.ledger == key)
                .group_by(LedgerStay.org, LedgerStay.dept, LedgerStay.month, LedgerStay.members)
            ).all()
        return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


def _forget(session: Session, key: str) -> None:
    session.execute(delete(LedgerStay).where(LedgerStay.ledger == key))
    session.execute(delete(IndicatorLedger).where(IndicatorLedger.key == key))


def _values(key: str, row: StayRow) -> dict[str, object]:
    return {
        "ledger": key,
        "encounter": row.encounter,
        "patient": row.patient,
        "org": row.org,
        "dept": row.dept,
        "month": row.month,
        "members": row.members,
    }
