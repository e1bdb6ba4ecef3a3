"""Incremental indicator refresh: a per-stay ledger of population membership kept current from
HAPI's history, so a day's uploads re-read only the people they touched.

*Seeding* (a full pass) evaluates every stay discharged in the period in memory — every
population on the join path, hospital-associated VTE by the region-wide look-back — and stores
one ledger row per stay: where it is counted (hospital, department, month) and the populations
it belongs to. Before the pass it reads HAPI's clock; that moment minus a margin is the
ledger's *watermark*.

*Refreshing* reads what HAPI wrote since the watermark (``_history?_since=`` on every type the
indicators read; a deletion is placed by the version before it), takes the patients those
resources belong to, widens them to every record of the same people (the regional pseudonym:
hospital-associated VTE looks back across hospitals), and re-reads only those people's stays
through FHIR search by id lists: census by ``subject``, dependent resources by ``encounter``,
events and look-back as in a full run. Their rows are replaced, the watermark moves, and the
published figures are summed from the ledger. A stay's membership depends only on its own
resources and its person's events and discharges, so the other rows stay exact.

Anything the refresh cannot be sure about — no ledger, other definitions, more changes than
``indicator_incremental_max_share`` of the stays, a deletion it cannot place — makes it run a
full pass instead, and the run says why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from facade.db import Database
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.indicators import joins
from facade.indicators.assemble import IndicatorTally
from facade.indicators.attribution import Attributions, Attributor, pseudonym
from facade.indicators.changes import changed_since, server_now
from facade.indicators.criteria import streams_for
from facade.indicators.definitions import DefinitionError, Indicator
from facade.indicators.engine import (
    Evaluation,
    EvaluationStats,
    IndicatorEngine,
    plan_indicator,
)
from facade.indicators.facts import StayFacts, parse_time, reference_id
from facade.indicators.ledger import Header, LedgerStore, StayRow
from facade.indicators.periods import Period, month_of
from facade.indicators.report import region_key
from facade.indicators.results import department_key
from facade.indicators.search import Searcher
from facade.indicators.vocab import IMP

log = logging.getLogger("facade.indicators.incremental")
_CHUNK = joins.ID_CHUNK
# History entries read per stay of the ledger before the refresh gives up and runs a full pass:
# a stay is about ten resources, so ``max_share`` of the stays rewritten is about this many.
_RESOURCES_PER_STAY = 12
_MIN_LIMIT = 2_000


@dataclass
class RefreshStats:
    """How a ledger run went: full or incremental, why, and what it read."""

    mode: str  # "full" or "incremental"
    reason: str = ""  # why a full pass ran
    changes: int = 0  # resources written since the watermark
    deleted: int = 0
    people: int = 0  # patients whose stays were re-read (every record of the people touched)
    stays_reread: int = 0
    stays: int = 0  # rows of the ledger after the run
    seconds: float = 0.0
    watermark: datetime | None = None
    requests: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the job list and the log."""
        if self.mode == "full":
            return f"full pass ({self.reason}): {self.stays} stays in {self.seconds:.1f} s"
        return (
            f"incremental: {self.changes} resources changed ({self.deleted} deleted), "
            f"{self.stays_reread} stays of {self.people} patients re-read, "
            f"{self.stays} stays in {self.seconds:.1f} s"
        )


@dataclass
class LedgerRun:
    """An evaluation computed from the ledger, and how the ledger was brought up to date."""

    evaluation: Evaluation
    stats: RefreshStats


def fingerprint(engine: IndicatorEngine) -> str:
    """Digest of the definitions and vocabulary the rows were computed under."""
    definitions = engine.definitions
    body = orjson.dumps(
        {
            "rules": definitions.rules.model_dump(mode="json"),
            "indicators": [i.model_dump(mode="json") for i in definitions.indicators.values()],
            "tenant": engine.vocab.tenant_tag,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def seed_too_old(seeded_at: datetime | None, now: datetime, limit: timedelta | None) -> str | None:
    """Why a ledger must be seeded again for its age (None: young enough, or no limit)."""
    if limit is None or seeded_at is None or now - seeded_at <= limit:
        return None
    hours = limit.total_seconds() / 3600
    return (
        f"the ledger was seeded more than {hours:g} h ago: a periodic full pass corrects what "
        "a refresh cannot see"
    )


def ledger_key(period: Period, orgs: Sequence[str] | None) -> str:
    """Key of the ledger of one period and region."""
    return f"{period.label}|{region_key(orgs)}"


class LedgerRefresher:
    """Seeds and refreshes stay ledgers; every figure it returns is summed from the ledger."""

    def __init__(
        self,
        engine: IndicatorEngine,
        database: Database,
        *,
        margin_seconds: float = 120.0,
        max_share: float = 0.2,
        reseed_after: timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.store = LedgerStore(database)
        self.margin = timedelta(seconds=margin_seconds)
        self.max_share = max_share
        self.reseed_after = reseed_after
        self.indicators: list[Indicator] = engine.definitions.select(None)
        # Every population on the join path, so each stay's membership is known.
        self.plans = {
            i.id: [
                dataclasses.replace(p, count_params=None)
                for p in plan_indicator(i, engine.definitions, engine.vocab)
            ]
            for i in self.indicators
        }
        crowded = [i.id for i in self.indicators if len(i.codes) > 4]
        if crowded:  # one hex digit per indicator holds four populations
            raise DefinitionError(
                f"indicators {', '.join(crowded)} have more than 4 populations: "
                "the stay ledger cannot hold them"
            )
        self.criteria = [
            c
            for plans in self.plans.values()
            for p in plans
            for c in [*p.criteria, *(p.excluded_by or [])]
        ]
        self.streams = streams_for(self.criteria)
        self.fingerprint = fingerprint(engine)

    # -- entry points

    async def refresh(self, period: str | Period, orgs: Sequence[str] | None = None) -> LedgerRun:
        """Bring the ledger up to date (incrementally when it can) and evaluate from it."""
        span = self.engine.span(period)
        header = self.store.header(ledger_key(span, orgs))
        reason = self._unusable(header)
        if reason is None and header is not None:
            run = await self._incremental(span, orgs, header)
            if isinstance(run, LedgerRun):
                return run
            reason = run
        return await self.seed(span, orgs, reason=reason or "requested")

    async def seed(
        self, period: str | Period, orgs: Sequence[str] | None = None, *, reason: str = "seed"
    ) -> LedgerRun:
        """A full pass: every stay of the period evaluated in memory, the ledger rewritten."""
        started = time.perf_counter()
        span = self.engine.span(period)
        engine = self.engine
        searcher = self.engine.searcher()
        mark = await server_now(searcher) - self.margin
        estats = EvaluationStats(search=searcher.stats)
        attributions: Attributions = {}
        if "events" in self.streams:
            attributions = await Attributor(
                searcher, engine.definitions.rules, engine.vocab, self.engine.scope(orgs)
            ).attribute(span)
        rows: list[StayRow] = []
        for part in await engine.partitions(searcher, span, orgs):
            census = await engine.partition_facts(
                searcher, span, part, self.streams, self.criteria, estats
            )
            rows.extend(self._row(ref, facts, attributions) for ref, facts in census.items())
        key = ledger_key(span, orgs)
        header = Header(key, self.fingerprint, [i.id for i in self.indicators], mark, len(rows))
        size = self.store.replace(key, span.label, region_key(orgs), header, rows)
        stats = RefreshStats("full", reason, stays=size, watermark=mark)
        return self._finish(span, orgs, key, stats, searcher, estats, started)

    # -- incremental

    def _unusable(self, header: Header | None) -> str | None:
        if header is None:
            return "no ledger yet"
        if header.fingerprint != self.fingerprint:
            return "the indicator definitions changed since the ledger was seeded"
        if header.indicators != [i.id for i in self.indicators]:
            return "the indicator set changed since the ledger was seeded"
        return seed_too_old(header.seeded_at, datetime.now(UTC), self.reseed_after)

    async def _incremental(
        self, span: Period, orgs: Sequence[str] | None, header: Header
    ) -> LedgerRun | str:
        """The refreshed run, or why a full pass is needed instead."""
        started = time.perf_counter()
        engine = self.engine
        searcher = self.engine.searcher()
        mark = await server_now(searcher) - self.margin
        limit = max(_MIN_LIMIT, int(self.max_share * header.stays * _RESOURCES_PER_STAY))
        searcher.phase = "history"
        changes = await changed_since(searcher, header.watermark, limit)
        if changes.overflow:
            return f"more than {limit} resources changed since the last refresh"
        if changes.unplaced:
            return (
                f"{len(changes.unplaced)} deleted resources could not be placed "
                f"(e.g. {changes.unplaced[0]})"
            )
        stats = RefreshStats(
            "incremental", changes=len(changes.resources), deleted=changes.deleted, watermark=mark
        )
        searcher.phase = "people"
        patients = await self._patients_touched(searcher, header.key, changes.resources)
        people = await self._same_people(searcher, patients, orgs)
        if len(people) > max(50, self.max_share * header.stays):
            return f"{len(people)} patients touched (over {self.max_share:.0%} of the stays)"
        searcher.phase = "census"
        census, in_period = await self._census_of(searcher, span, sorted(people), orgs)
        if census and self.streams - {"events"}:
            searcher.phase = "facts"
            await joins.stream_facts(
                searcher,
                span,
                [],
                self.streams,
                census,
                self.criteria,
                engine.vocab,
                engine.reader,
                encounters=sorted(census),
            )
        attributions: Attributions = {}
        if "events" in self.streams and people:
            searcher.phase = "attribution"
            attributions = await Attributor(
                searcher, engine.definitions.rules, engine.vocab, self.engine.scope(orgs)
            ).attribute_people(span, sorted(people), in_period)
        rows = [self._row(ref, facts, attributions) for ref, facts in census.items()]
        gone = self.store.stays_of(header.key, people) - set(census)
        stats.people, stats.stays_reread = len(people), len(census)
        stats.stays = self.store.patch(header.key, header.watermark, mark, rows, gone)
        estats = EvaluationStats(search=searcher.stats, stays=len(census))
        return self._finish(span, orgs, header.key, stats, searcher, estats, started)

    async def _patients_touched(
        self, searcher: Searcher, key: str, resources: list[dict[str, Any]]
    ) -> set[str]:
        """Patients whose stays the changed resources can affect (old owners from the ledger)."""
        patients: set[str] = set()
        encounters: set[str] = set()
        subjects_known: set[str] = set()  # stays whose patient a changed resource names
        for resource in resources:
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if rtype == "Patient":
                patients.add(f"Patient/{rid}")
                continue
            if rtype == "Encounter":
                encounters.add(f"Encounter/{rid}")
            else:
                for link in ("encounter", "context"):
                    ref = reference_id(resource.get(link))
                    if ref and ref.startswith("Encounter/"):
                        encounters.add(ref)
            subject = reference_id(resource.get("subject"))
            if subject and subject.startswith("Patient/"):
                patients.add(subject)
                subjects_known |= {
                    ref
                    for link in ("encounter", "context")
                    if (ref := reference_id(resource.get(link)))
                }
                if rtype == "Encounter":
                    subjects_known.add(f"Encounter/{rid}")
        known = self.store.patients_of(key, encounters)
        patients |= set(known.values())
        # A resource naming no patient, of a stay the ledger does not hold: HAPI knows whose it is.
        orphans = sorted(e.split("/", 1)[1] for e in encounters - set(known) - subjects_known)
        async for encounter in searcher.by_values(
            "Encounter", "_id", orphans, [], "subject", _CHUNK
        ):
            subject = reference_id(encounter.get("subject"))
            if subject:
                patients.add(subject)
        return patients

    async def _same_people(
        self, searcher: Searcher, patients: set[str], orgs: Sequence[str] | None
    ) -> set[str]:
        """Every Patient in scope of the people these patients are (same regional pseudonym)."""
        ids = sorted(p.split("/", 1)[1] for p in patients)
        tokens: set[str] = set()
        async for patient in searcher.by_values("Patient", "_id", ids, [], "identifier", _CHUNK):
            value = pseudonym(patient)
            if value:
                tokens.add(f"{REGIONAL_PSEUDONYM_SYSTEM}|{value}")
        people = set(patients)
        async for patient in searcher.by_values(
            "Patient", "identifier", sorted(tokens), self.engine.scope(orgs), "identifier", _CHUNK
        ):
            people.add(f"Patient/{patient['id']}")
        return people

    async def _census_of(
        self, searcher: Searcher, span: Period, patients: list[str], orgs: Sequence[str] | None
    ) -> tuple[dict[str, StayFacts], set[str]]:
        """The stays of these patients discharged in the period, as the census would read them
        (inpatient, tagged with a hospital in scope), and every one of their encounters
        discharged in the period (an event of such a stay counts whatever its date)."""
        tz = self.engine.definitions.rules.tz
        system, code = IMP.split("|", 1)
        start, end = span.start.timestamp(), span.end.timestamp()
        wanted = set(orgs or ())
        census: dict[str, StayFacts] = {}
        in_period: set[str] = set()

        def month(epoch: float) -> str:
            return month_of(datetime.fromtimestamp(epoch, tz), tz)

        async for encounter in searcher.by_values(
            "Encounter", "subject", patients, [], f"{joins.CENSUS_ELEMENTS},class", _CHUNK
        ):
            ref = f"Encounter/{encounter['id']}"
            ended = parse_time((encounter.get("period") or {}).get("end"), tz)
            if ended is None or not start <= ended < end:
                continue
            in_period.add(ref)
            kind = encounter.get("class") or {}
            if kind.get("system") != system or kind.get("code") != code:
                continue
            facts = self.engine.reader.stay(encounter, month)
            if facts is not None and (not wanted or facts.org in wanted):
                census[ref] = facts
        return census, in_period

    # -- shared

    def _row(self, ref: str, facts: StayFacts, attributions: Attributions) -> StayRow:
        facts.ha = attributions.get(ref)
        holds = self.engine.evaluator.holds
        digits = []
        for indicator in self.indicators:
            mask = 0
            for bit, plan in enumerate(self.plans[indicator.id]):
                if holds(plan.criteria, facts) and not (
                    plan.excluded_by is not None and holds(plan.excluded_by, facts)
                ):
                    mask |= 1 << bit
            digits.append(format(mask, "x"))
        return StayRow(ref, facts.patient, facts.org, facts.dept, facts.month, "".join(digits))

    def aggregate(self, span: Period, orgs: Sequence[str] | None, key: str) -> Evaluation:
        """The evaluation the ledger holds: per hospital and stratum, the region their sum."""
        tallies = {
            i.id: IndicatorTally(
                i, [(p.code, p.criteria, p.excluded_by, None) for p in self.plans[i.id]]
            )
            for i in self.indicators
        }
        known = set(orgs or ())
        for org, dept, month, members, stays in self.store.groups(key):
            known.add(org)
            dkey = department_key(org, dept)
            for index, indicator in enumerate(self.indicators):
                tally = tallies[indicator.id]
                mask = int(members[index], 16)
                codes = [c for bit, c in enumerate(tally.codes) if mask >> bit & 1]
                tally.add_members(org, month, dkey, codes, stays)
        orgs_known = sorted(known)
        results = {}
        for indicator in self.indicators:
            tallies[indicator.id].fill_counts({}, orgs_known)
            results[indicator.id] = tallies[indicator.id].result(span.label)
        return Evaluation(span, orgs_known, bool(orgs), results, self.plans, EvaluationStats())

    def _finish(
        self,
        span: Period,
        orgs: Sequence[str] | None,
        key: str,
        stats: RefreshStats,
        searcher: Searcher,
        estats: EvaluationStats,
        started: float,
    ) -> LedgerRun:
        evaluation = self.aggregate(span, orgs, key)
        estats.search = searcher.stats
        estats.total_seconds = stats.seconds = time.perf_counter() - started
        evaluation.stats = estats
        evaluation.ledger = stats
        stats.requests = {
            "counts": searcher.stats.counts,
            "pages": searcher.stats.pages,
            "resources": searcher.stats.resources,
        }
        log.info("indicator ledger %s: %s", key, stats.summary())
        return LedgerRun(evaluation, stats)
