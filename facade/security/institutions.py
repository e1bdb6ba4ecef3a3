"""The institution registry as callers meet it: admitted or not, active or disabled, cached briefly.

Every door asks ``status(org_code)`` on every request, so answers are cached in-process for
``institution_cache_seconds`` (default 5 s). Changes made through this registry (``add``,
``set_status``) invalidate this process's cache at once. Other processes (another worker, a
running ``vte-facade serve`` while an operator runs ``vte-facade org disable``) see a change when
their cached answer expires: a short TTL, not a version counter, because reading a counter would
cost the same database round trip as reading the status itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from facade.db import Database
from facade.errors import Conflict, InvalidInput, Issue, UpstreamError
from facade.native import orgs
from facade.upstream import UpstreamClient

_MAX_CACHED = 10_000  # far more institutions than a region has; junk codes cannot grow it further


class InstitutionStatus(StrEnum):
    """Where an institution stands in the registry."""

    ACTIVE = "active"
    DISABLED = "disabled"
    NOT_ADMITTED = "not-admitted"


class InstitutionRegistry:
    """Admitted institutions and their status, read through a short in-process cache."""

    def __init__(
        self,
        database: Database,
        *,
        ttl_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, InstitutionStatus]] = {}
        self._lock = threading.Lock()
        # Bumped by every change made through this registry: caches built on answers of this
        # process (the caller cache) compare it to drop what such a change made stale.
        self.generation = 0

    def status(self, org_code: str) -> InstitutionStatus:
        """The institution's status (cached for ``ttl_seconds``)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(org_code)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.database.session() as session:
            org = orgs.find_org(session, org_code)
            status = (
                InstitutionStatus.NOT_ADMITTED
                if org is None
                else InstitutionStatus.ACTIVE
                if org.status == "active"
                else InstitutionStatus.DISABLED
            )
        if self.ttl_seconds > 0:
            with self._lock:
                if len(self._cache) >= _MAX_CACHED:
                    self._cache.clear()
                self._cache[org_code] = (now + self.ttl_seconds, status)
        return status

    def fresh_for(self, org_code: str) -> float:
        """Seconds this process keeps answering the cached status of ``org_code`` (0: not cached,
        so the last answer came from the database)."""
        with self._lock:
            cached = self._cache.get(org_code)
        return max(0.0, cached[0] - self._clock()) if cached is not None else 0.0

    def refusal(self, org_code: str | None) -> str | None:
        """Why a caller acting for ``org_code`` must be refused, or None when it is active."""
        if org_code is None:
            return "no institution is named"
        status = self.status(org_code)
        if status is InstitutionStatus.NOT_ADMITTED:
            return f"institution {org_code} is not admitted (vte-facade org add)"
        if status is InstitutionStatus.DISABLED:
            return f"institution {org_code} is disabled"
        return None

    async def admit(
        self,
        upstream: UpstreamClient,
        org_code: str,
        name: str,
        *,
        grade: str,
        has_vte_system: bool,
    ) -> orgs.OrgSummary:
        """Admit an institution: admission rule and code checked, FHIR Organization first, then the row.

        HAPI first: if it is down nothing is registered, and a retry is safe (PUT by id).
        Raises InvalidInput (rule or code), Conflict (already registered) or UpstreamError.
        """
        problems: list[InvalidInput] = []  # every refused field at once, not one per attempt
        try:
            orgs.check_org_code(org_code)
        except InvalidInput as exc:
            problems.append(exc)
        try:
            orgs.check_admission(grade, has_vte_system)
        except InvalidInput as exc:
            problems.append(exc)
        if not name.strip():
            problems.append(
                InvalidInput(
                    "the institution needs a name",
                    issues=[Issue("name", "required", "the registered name")],
                )
            )
        if problems:
            raise InvalidInput(
                problems[0].message, issues=[issue for p in problems for issue in p.issues]
            )
        with self.database.session() as session:
            if orgs.find_org(session, org_code) is not None:
                raise Conflict(f"institution {org_code} is already registered")
        fhir_id = await orgs.publish_organization(
            upstream, org_code, name.strip(), grade, active=True
        )
        return self.add(org_code, name.strip(), grade=grade, fhir_id=fhir_id)

    async def change_status(
        self, upstream: UpstreamClient, org_code: str, *, active: bool
    ) -> tuple[orgs.OrgSummary, str | None]:
        """Enable or disable; the registry decides access at once, the Organization's ``active``
        follows when HAPI is up. Returns the summary and, if HAPI was not updated, why."""
        summary = self.set_status(org_code, active=active)
        try:
            await orgs.publish_organization(
                upstream,
                org_code,
                summary.name,
                summary.grade,
                active=active,
                fhir_id=summary.fhir_id,
            )
        except UpstreamError as exc:
            return summary, exc.message
        return summary, None

    def add(self, org_code: str, name: str, *, grade: str, fhir_id: str) -> orgs.OrgSummary:
        """Record an admitted institution (its FHIR Organization must exist already)."""
        with self.database.session() as session:
            summary = orgs.OrgSummary.of(
                orgs.add_org(session, org_code, name, grade=grade, fhir_id=fhir_id)
            )
        self.invalidate(org_code)
        return summary

    def set_status(self, org_code: str, *, active: bool) -> orgs.OrgSummary:
        """Enable or disable an institution; this process refuses or admits it from now on."""
        with self.database.session() as session:
            summary = orgs.OrgSummary.of(
                orgs.set_org_status(session, org_code, "active" if active else "disabled")
            )
        self.invalidate(org_code)
        return summary

    def invalidate(self, org_code: str | None = None) -> None:
        """Forget the cached status of one institution (or of all)."""
        with self._lock:
            self.generation += 1
            if org_code is None:
                self._cache.clear()
            else:
                self._cache.pop(org_code, None)
