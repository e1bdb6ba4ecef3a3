"""Server ids of what the forwarder writes: derived from each resource's identity, never searched for.

The mapping engine names every resource by its business identifier, as a conditional URL
(``Encounter?identifier=<system>|<value>``). The forwarder writes it with ``PUT Encounter/<id>``
where ``id = derived_id(conditional URL)``, and turns references to other records' resources
into the same literal ids: HAPI then looks up a primary key instead of running a token search
per entry and per reference (a conditional update costs HAPI a search; see forward/README.md).

Transition from conditional updates (databases that stored records before this scheme): HAPI
holds those resources under server-assigned ids, and a PUT to the derived id would store the
identity a second time. Such an installation stays on the ``conditional`` scheme (correct, only
slower) until every id HAPI assigned is recorded in ``forward_legacy_id``; from then on the
forwarder writes those resources under their recorded ids and every new one under its derived
id. ``adopting`` pauses forwarding while that scan runs. The scan (a ``vte-facade forward
adopt-ids`` command over ``remember_legacy``/``set_scheme``) is not built yet.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from facade.db import Database
from facade.db.statements import in_lists
from facade.db.tables import InstanceFact, utcnow
from facade.forward.tables import ForwardLegacyId

Scheme = Literal["derived", "conditional", "adopting"]
SCHEME_FACT = "forward.id_scheme"
# What the mapping engine writes as an identity: ``Type?identifier=system|value``, nothing else.
_IDENTITY = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=[^&]+$")
# A `_has` reference (the Patient of a case whose facts are unknown) names the case's identity.
_HAS = re.compile(r"^[A-Z][A-Za-z]+\?_has:([A-Z][A-Za-z]+):[a-z-]+:(identifier=[^&]+)$")


def derived_id(match_url: str) -> str:
    """The server id of the resource whose conditional URL is ``match_url``.

    32 hex digits of SHA-256 (128 bits): a FHIR id, never numeric-looking in practice, never a
    UUID (HAPI's own ids have dashes), and stable as long as ``facade.mapping.plans.match_url``
    spells identities the same way (tests/forward pins a known value).
    """
    return hashlib.sha256(match_url.encode("utf-8")).hexdigest()[:32]


def match_hash(match_url: str) -> str:
    """Key of a conditional URL in ``forward_legacy_id``."""
    return hashlib.sha256(match_url.encode("utf-8")).hexdigest()


def identity_type(url: str) -> str | None:
    """The resource type of an identity URL (``Type?identifier=...``), None for anything else."""
    found = _IDENTITY.match(url)
    return found.group(1) if found else None


def identity_of_reference(reference: str) -> str | None:
    """The identity a reference depends on: itself, or the record a `_has` reference goes through."""
    if identity_type(reference):
        return reference
    found = _HAS.match(reference)
    return f"{found.group(1)}?{found.group(2)}" if found else None


@dataclass(frozen=True)
class Ids:
    """How identities become request URLs and references for one round of writes."""

    scheme: Scheme
    legacy: Mapping[str, str] = field(default_factory=dict)  # conditional URL → "Type/id"

    def target(self, match_url: str) -> str:
        """Request URL (and reference) of the resource with this identity."""
        kind = identity_type(match_url)
        if self.scheme != "derived" or kind is None:
            return match_url
        return self.legacy.get(match_url) or f"{kind}/{derived_id(match_url)}"

    def literal_id(self, match_url: str) -> str | None:
        """The id part of ``target`` when it is a literal ``Type/id``."""
        target = self.target(match_url)
        return None if "?" in target else target.split("/", 1)[1]


class IdStore:
    """The installation's id scheme and the adopted legacy ids, in the facade database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._legacy_known: bool | None = None

    def scheme(self) -> Scheme:
        """The current scheme (``conditional`` when the fact is missing: the safe reading)."""
        with self.database.session() as session:
            value = session.scalar(
                select(InstanceFact.value).where(InstanceFact.key == SCHEME_FACT)
            )
        return value if value in ("derived", "adopting") else "conditional"  # type: ignore[return-value]

    def set_scheme(self, scheme: Scheme) -> None:
        """Record the scheme every forwarder process follows from its next round on."""
        with self.database.session() as session:
            fact = session.get(InstanceFact, SCHEME_FACT)
            if fact is None:
                session.add(InstanceFact(key=SCHEME_FACT, value=scheme))
            else:
                fact.value, fact.updated_at = scheme, utcnow()
        self._legacy_known = None

    def ids(self, scheme: Scheme, identities: Iterable[str]) -> Ids:
        """The ``Ids`` of a round that writes or references ``identities``."""
        if scheme != "derived" or not self._has_legacy():
            return Ids(scheme)
        wanted = {match_hash(url): url for url in set(identities) if identity_type(url)}
        found: dict[str, str] = {}
        with self.database.session() as session:
            for keys in in_lists(wanted):
                rows = session.execute(
                    select(ForwardLegacyId.match_hash, ForwardLegacyId.resource_ref).where(
                        ForwardLegacyId.match_hash.in_(keys)
                    )
                )
                found.update({wanted[key]: ref for key, ref in rows})
        return Ids(scheme, found)

    def _has_legacy(self) -> bool:
        if self._legacy_known is None:
            with self.database.session() as session:
                self._legacy_known = (
                    session.scalar(select(ForwardLegacyId.match_hash).limit(1)) is not None
                )
        return self._legacy_known

    def remember_legacy(self, rows: Mapping[str, str]) -> int:
        """Record ``conditional URL → Type/id`` pairs (existing ones are kept); returns how many were new."""
        added = 0
        with self.database.session() as session:
            by_hash = {match_hash(url): ref for url, ref in rows.items()}
            known: set[str] = set()
            for keys in in_lists(by_hash):
                known.update(
                    session.scalars(
                        select(ForwardLegacyId.match_hash).where(
                            ForwardLegacyId.match_hash.in_(keys)
                        )
                    )
                )
            for key, ref in by_hash.items():
                if key not in known:
                    session.add(ForwardLegacyId(match_hash=key, resource_ref=ref))
                    added += 1
        self._legacy_known = None
        return added
