"""Evaluate indicator definitions through FHIR search against HAPI.

Plan: every population of every indicator is either *counted* — all its criteria have an
Encounter search form (``_has``, tokens), so HAPI answers ``_summary=count`` per hospital, month
and department (facade.indicators.counts) — or *joined*: the census of stays discharged in the
period is streamed once with ``_elements``, the dependent resources the criteria need are
streamed by chained search and folded into a few facts per stay (facade.indicators.joins), and
the criteria are tested in memory. Hospital-associated VTE needs the cross-hospital look-back of
facade.indicators.attribution. Results are assembled per hospital; the region is their sum.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from facade.errors import Conflict, Issue
from facade.fhir.naming import ORG_CODE_SYSTEM
from facade.indicators import joins
from facade.indicators.assemble import IndicatorTally
from facade.indicators.attribution import Attributions, AttributionStats, Attributor
from facade.indicators.counts import run_counts
from facade.indicators.criteria import Evaluator, Params, search_form, streams_for
from facade.indicators.definitions import Criterion, Definitions, Indicator, PopulationCode
from facade.indicators.facts import FactReader, StayFacts
from facade.indicators.periods import Period, parse_period
from facade.indicators.results import IndicatorResult
from facade.indicators.search import Searcher, SearchStats
from facade.indicators.vocab import Vocabulary
from facade.metrics.registry import INDICATOR_RUNS
from facade.upstream import UpstreamClient

if TYPE_CHECKING:
    from facade.indicators.incremental import RefreshStats

log = logging.getLogger("facade.indicators")
# Hospitals per join partition: their tags go into one search URL.
_MAX_TAGS = 40
# Runs tried when writes landing between two counts leave a numerator above its denominator.
_ATTEMPTS = 3


@dataclass
class PopulationPlan:
    """How one population of one indicator is evaluated."""

    code: str
    criteria: list[Criterion]
    count_params: Params | None  # None: joined in memory
    excluded_by: list[Criterion] | None = None  # numerator of a measure with exclusions

    @property
    def method(self) -> str:
        """ "count" or "join"."""
        return "count" if self.count_params is not None else "join"


@dataclass
class EvaluationStats:
    """Where the time went; the benchmark prints these."""

    stays: int = 0
    census_seconds: float = 0.0
    count_seconds: float = 0.0
    join_seconds: float = 0.0
    total_seconds: float = 0.0
    search: SearchStats = field(default_factory=SearchStats)
    attribution: AttributionStats | None = None


@dataclass
class Evaluation:
    """Results of one run: per indicator, the region and every hospital in scope."""

    period: Period
    orgs: list[str]
    scoped: bool  # True: the region is exactly ``orgs``; False: every hospital found
    results: dict[str, IndicatorResult]
    plans: dict[str, list[PopulationPlan]]
    stats: EvaluationStats
    # How the run was made when it came from the stay ledger (facade.indicators.incremental).
    ledger: RefreshStats | None = None


def plan_indicator(
    indicator: Indicator, definitions: Definitions, vocab: Vocabulary
) -> list[PopulationPlan]:
    """Decide count or join for each population of an indicator."""
    plans = []
    has_exclusion = PopulationCode.EXCLUSION in indicator.populations
    for code in indicator.codes:
        criteria = indicator.chain(code)
        forms = [search_form(c, definitions.rules, vocab) for c in criteria]
        params: Params | None = [p for form in forms if form for p in form]
        if any(form is None for form in forms):
            params = None
        excluded_by = None
        if code is PopulationCode.NUMERATOR and has_exclusion:
            excluded_by = indicator.populations[PopulationCode.EXCLUSION].criteria
            params = None  # "not excluded" is a negated conjunction: no search form
        plans.append(PopulationPlan(code.value, criteria, params, excluded_by))
    return plans


class IndicatorEngine:
    """Evaluates indicators for a period over a set of hospitals (or all of them)."""

    def __init__(
        self,
        upstream: UpstreamClient,
        definitions: Definitions,
        vocab: Vocabulary,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        partition_stays: int = 20_000,
    ) -> None:
        self.upstream = upstream
        self.definitions = definitions
        self.vocab = vocab
        self.concurrency = concurrency
        self.page_size = page_size
        self.partition_stays = partition_stays
        self.reader = FactReader(definitions.rules, vocab)
        self.evaluator = Evaluator(definitions.rules)

    def span(self, period: str | Period) -> Period:
        """The period a label names (in the rules' zone), or the period itself."""
        return (
            parse_period(period, self.definitions.rules.tz) if isinstance(period, str) else period
        )

    def searcher(self) -> Searcher:
        """A searcher with this engine's concurrency and page size (one per run: its stats)."""
        return Searcher(self.upstream, concurrency=self.concurrency, page_size=self.page_size)

    def scope(self, orgs: Sequence[str] | None) -> Params:
        """Search parameters confining a search to these hospitals (none: the whole region)."""
        tag = self.vocab.tenant_tag
        return [("_tag", ",".join(f"{tag}|{o}" for o in orgs))] if orgs else []

    async def evaluate(
        self,
        period: str | Period,
        *,
        orgs: Sequence[str] | None = None,
        indicators: list[str] | None = None,
        record: bool = False,
    ) -> Evaluation:
        """Compute the indicators; ``orgs`` limits the region (and the cross-hospital look-back).

        Populations are counted by separate searches, so stays written while a run counts can
        leave a numerator above its denominator. Such a run is done again (HAPI holds no
        snapshot to count in); if the data keeps moving, Conflict says so instead of a report
        the guide would refuse.
        """
        tears: list[str] = []
        for attempt in range(1, _ATTEMPTS + 1):
            evaluation = await self._evaluate_once(
                period, orgs=orgs, indicators=indicators, record=record
            )
            tears = [t for result in evaluation.results.values() for t in result.tears()]
            if not tears:
                return evaluation
            log.warning(
                "indicator run %s/%s: counts changed while counting (%s); counting again",
                attempt,
                _ATTEMPTS,
                tears[0],
            )
        raise Conflict(
            f"the indicators could not be counted consistently: stays kept arriving during "
            f"{_ATTEMPTS} runs ({tears[0]}); try again when the intake is quieter",
            issues=[Issue("MeasureReport.group.population", "vte-mr-1", tears[0])],
        )

    async def _evaluate_once(
        self,
        period: str | Period,
        *,
        orgs: Sequence[str] | None,
        indicators: list[str] | None,
        record: bool,
    ) -> Evaluation:
        started = time.perf_counter()
        rules = self.definitions.rules
        span = self.span(period)
        selected = self.definitions.select(indicators)
        plans = {i.id: plan_indicator(i, self.definitions, self.vocab) for i in selected}
        searcher = self.searcher()
        searcher.stats.record = record
        stats = EvaluationStats(search=searcher.stats)
        scope = self.scope(orgs)
        tallies = {
            i.id: IndicatorTally(
                i, [(p.code, p.criteria, p.excluded_by, p.count_params) for p in plans[i.id]]
            )
            for i in selected
        }
        joined = [p for plan in plans.values() for p in plan if p.count_params is None]
        criteria = [c for p in joined for c in [*p.criteria, *(p.excluded_by or [])]]
        streams = streams_for(criteria)

        mark = time.perf_counter()
        attributions: Attributions = {}
        if "events" in streams:
            searcher.phase = "attribution"
            attributor = Attributor(searcher, rules, self.vocab, scope)
            attributions = await attributor.attribute(span)
            stats.attribution = attributor.stats
        partitions = await self.partitions(searcher, span, orgs)
        departments: dict[str, set[str | None]] = {}
        attributed = 0
        for part in partitions:
            census = await self.partition_facts(searcher, span, part, streams, criteria, stats)
            for ref, facts in census.items():
                facts.ha = attributions.get(ref)
                attributed += facts.ha is not None
                departments.setdefault(facts.org, set()).add(facts.dept)
                if joined:
                    for tally in tallies.values():
                        tally.add_stay(facts, self.evaluator)
            del census  # one hospital's stays at a time
        stats.join_seconds = time.perf_counter() - mark

        mark = time.perf_counter()
        searcher.phase = "count"
        known_orgs = sorted(set(orgs or ()) | set(departments))
        counted = await run_counts(
            searcher,
            span,
            [p.count_params for plan in plans.values() for p in plan if p.count_params is not None],
            known_orgs,
            departments,
            self.vocab,
        )
        results = {}
        for indicator in selected:
            tallies[indicator.id].fill_counts(counted, known_orgs)
            results[indicator.id] = tallies[indicator.id].result(span.label)
        stats.count_seconds = time.perf_counter() - mark
        if stats.attribution is not None:
            stats.attribution.to_stays_in_period = attributed
        stats.total_seconds = time.perf_counter() - started
        INDICATOR_RUNS.observe(stats.total_seconds)
        return Evaluation(span, known_orgs, bool(orgs), results, plans, stats)

    async def select_stays(
        self,
        period: str | Period,
        criteria: list[Criterion],
        *,
        orgs: Sequence[str] | None = None,
    ) -> dict[str, StayFacts]:
        """Stays discharged in the period that meet every criterion (a research cohort), keyed
        ``Encounter/<id>``; read by the same census, fact streams and attribution as evaluate()."""
        rules = self.definitions.rules
        span = self.span(period)
        searcher = self.searcher()
        stats = EvaluationStats(search=searcher.stats)
        streams = streams_for(criteria)
        scope = self.scope(orgs)
        attributions: Attributions = {}
        if "events" in streams:
            searcher.phase = "attribution"
            attributions = await Attributor(searcher, rules, self.vocab, scope).attribute(span)
        chosen: dict[str, StayFacts] = {}
        for part in await self.partitions(searcher, span, orgs):
            census = await self.partition_facts(searcher, span, part, streams, criteria, stats)
            for ref, facts in census.items():
                facts.ha = attributions.get(ref)
                if self.evaluator.holds(criteria, facts):
                    chosen[ref] = facts
        return chosen

    async def census_facts(
        self,
        period: str | Period,
        criteria: list[Criterion],
        *,
        orgs: Sequence[str] | None = None,
        keep: Callable[[str, StayFacts], bool] | None = None,
    ) -> dict[str, StayFacts]:
        """Facts of the stays discharged in the period (those ``keep`` accepts), with the
        dependent streams ``criteria`` need and no attribution (``facts.ha`` stays None); the
        network uplink evaluates the local part of linked populations with them."""
        span = self.span(period)
        searcher = self.searcher()
        stats = EvaluationStats(search=searcher.stats)
        streams = streams_for(criteria) - {"events"}
        chosen: dict[str, StayFacts] = {}
        for part in await self.partitions(searcher, span, orgs):
            census = await self.partition_facts(searcher, span, part, streams, criteria, stats)
            chosen.update(
                (ref, facts) for ref, facts in census.items() if keep is None or keep(ref, facts)
            )
        return chosen

    async def partitions(
        self, searcher: Searcher, span: Period, orgs: Sequence[str] | None
    ) -> list[Params]:
        """Search scopes for the join: whole hospitals packed up to ``partition_stays`` stays each,
        so memory holds a bounded number of stays however large the region.

        Without an explicit region the hospitals are the registered Organizations; if their stays
        do not add up to every stay discharged in the period (an unregistered or untagged
        hospital), the join falls back to one region-wide pass rather than miss any.
        """
        tag = self.vocab.tenant_tag
        searcher.phase = "partitions"
        candidates = sorted(set(orgs)) if orgs else await self._registered(searcher)
        sizes = await asyncio.gather(
            *(
                searcher.count("Encounter", joins.base_params(span, [("_tag", f"{tag}|{o}")]))
                for o in candidates
            )
        )
        if not orgs:
            everyone = await searcher.count("Encounter", joins.base_params(span, []))
            if sum(sizes) != everyone:
                log.warning(
                    "%d of %d stays discharged in %s belong to no registered hospital: "
                    "joining region-wide",
                    everyone - sum(sizes),
                    everyone,
                    span.label,
                )
                return [[]]
        parts: list[list[str]] = []
        filled = 0
        for org, size in zip(candidates, sizes, strict=True):
            if size == 0:
                continue
            if not parts or filled + size > self.partition_stays or len(parts[-1]) >= _MAX_TAGS:
                parts.append([])
                filled = 0
            parts[-1].append(org)
            filled += size
        return [[("_tag", ",".join(f"{tag}|{o}" for o in part))] for part in parts]

    async def _registered(self, searcher: Searcher) -> list[str]:
        """Institution codes of every registered hospital (Organization identifiers)."""
        found: set[str] = set()
        async for organization in searcher.stream(
            "Organization", [("identifier", f"{ORG_CODE_SYSTEM}|")], "identifier"
        ):
            for identifier in organization.get("identifier") or []:
                if identifier.get("system") == ORG_CODE_SYSTEM and identifier.get("value"):
                    found.add(str(identifier["value"]))
        return sorted(found)

    async def partition_facts(
        self,
        searcher: Searcher,
        span: Period,
        scope: Params,
        streams: set[str],
        criteria: list[Criterion],
        stats: EvaluationStats,
    ) -> dict[str, StayFacts]:
        """The census of one partition with the facts of its dependent resources folded in."""
        mark = time.perf_counter()
        searcher.phase = "census"
        census = await joins.census(searcher, span, scope, self.reader, self.definitions.rules.tz)
        stats.census_seconds += time.perf_counter() - mark
        stats.stays += len(census)
        if census and streams - {"events"}:
            searcher.phase = "facts"
            await joins.stream_facts(
                searcher, span, scope, streams, census, criteria, self.vocab, self.reader
            )
        return census
