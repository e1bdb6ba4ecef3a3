"""At intake, keep each person's province pseudonym beside the regional one (both doors).

The identity number is known only while a record is being received; afterwards the facade holds
the regional pseudonym alone, which another city cannot match (its regional key differs). So the
province pseudonym is computed right then, from the number, under the province linkage key, and
kept in ``linkage_pseudonym`` (regional → province). It never goes to HAPI or into a FHIR read;
only the uplink reads it, to send linkage data to the parent.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from facade.db import Database
from facade.db.statements import in_lists
from facade.dictionary.models import RecordType
from facade.network.keys import linkage_check, province_pseudonym
from facade.network.tables import LinkagePseudonym
from facade.settings import Settings

_REMEMBERED = 50_000  # regional pseudonyms known to be stored (skips the database for repeats)
# Pairs of the batch being prepared (``one_batch``), written together when it ends.
_BATCH: ContextVar[list[tuple[str, str]] | None] = ContextVar("linkage_batch", default=None)


class LinkageRecorder:
    """Writes (regional, province) pseudonym pairs under one linkage key."""

    def __init__(self, database: Database, linkage_key: bytes) -> None:
        self.database = database
        self.key = linkage_key
        self.key_check = linkage_check(linkage_key)
        self._known: OrderedDict[str, None] = OrderedDict()

    @classmethod
    def for_settings(cls, settings: Settings, database: Database) -> LinkageRecorder | None:
        """The recorder of a facade with a linkage key (None without one: nothing is linked)."""
        if settings.linkage_key is None:
            return None
        return cls(database, settings.secret("linkage_key"))

    def pair(self, id_type: str, id_number: str, regional: str) -> tuple[str, str]:
        """(regional, province) of one identity document."""
        return regional, province_pseudonym(id_type, id_number, self.key)

    @contextmanager
    def one_batch(self) -> Iterator[None]:
        """Pairs of the records prepared within the block are stored together when it ends
        without an error (a batch refused whole keeps none)."""
        pending: list[tuple[str, str]] = []
        token = _BATCH.set(pending)
        try:
            yield
        finally:
            _BATCH.reset(token)
        self.remember(pending)

    def remember_record(
        self, rt: RecordType, record: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> None:
        """Keep the pairs of a native record: ``record`` in clear, ``payload`` pseudonymised
        (at the end of the batch inside ``one_batch``)."""
        pairs = []
        for field in rt.fields:
            if field.type != "identity-number" or field.name not in payload:
                continue
            id_type = str(payload.get(field.id_type_field or "", ""))
            pairs.append(self.pair(id_type, str(record[field.name]), str(payload[field.name])))
        pending = _BATCH.get()
        if pending is not None:
            pending.extend(pairs)
        else:
            self.remember(pairs)

    def remember(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Store pairs not stored yet (idempotent; a concurrent writer's row is as good)."""
        fresh = [(r, p) for r, p in pairs if r not in self._known]
        if not fresh:
            return
        with self.database.session() as session:
            stored = set(
                session.scalars(
                    select(LinkagePseudonym.regional).where(
                        LinkagePseudonym.regional.in_([r for r, _ in fresh]),
                        LinkagePseudonym.key_check == self.key_check,
                    )
                )
            )
        missing = {r: p for r, p in fresh if r not in stored}
        if missing:
            try:
                with self.database.session() as session:
                    session.add_all(
                        LinkagePseudonym(regional=r, key_check=self.key_check, person=p)
                        for r, p in missing.items()
                    )
            except IntegrityError:  # another worker stored the same pair first
                pass
        for regional, _ in fresh:
            self._known[regional] = None
            self._known.move_to_end(regional)
        while len(self._known) > _REMEMBERED:
            self._known.popitem(last=False)

    def people(self, regionals: Iterable[str]) -> dict[str, str]:
        """Regional pseudonym → province pseudonym, for those known under the current key."""
        found: dict[str, str] = {}
        with self.database.session() as session:
            for chunk in in_lists(regionals):
                rows = session.execute(
                    select(LinkagePseudonym.regional, LinkagePseudonym.person).where(
                        LinkagePseudonym.regional.in_(chunk),
                        LinkagePseudonym.key_check == self.key_check,
                    )
                )
                found.update({str(r): str(p) for r, p in rows})
        return found
