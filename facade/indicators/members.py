"""Drill-down: the stays behind one hospital's number — which stays are in which population.

Published reports hold counts only. To list the stays, one hospital's census is joined again
with every population on the join path (the engine's own facts, criteria and evaluator; the
counted path has no list of stays), and hospital-associated VTE is looked back over the whole
region as in the evaluation. The result reflects the data as stored now; the published report
reflects the data when it was computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facade.indicators import joins
from facade.indicators.assemble import IndicatorTally
from facade.indicators.attribution import Attributions, Attributor
from facade.indicators.criteria import streams_for
from facade.indicators.engine import IndicatorEngine, plan_indicator
from facade.indicators.periods import parse_period


@dataclass(frozen=True)
class MemberStay:
    """One stay of the census and the populations it belongs to."""

    ref: str  # Encounter/<id>
    org: str
    department_key: str  # <org>/<dept>, as in the department strata
    month: str  # discharge month, as in the month strata
    admitted: float  # epoch seconds
    discharged: float
    populations: tuple[str, ...]


async def stays_of(
    engine: IndicatorEngine,
    period: str,
    org: str,
    indicator_id: str,
    *,
    region: Sequence[str] | None = None,
) -> list[MemberStay]:
    """Every stay of ``org`` discharged in ``period`` that is in the indicator's initial population."""
    definitions = engine.definitions
    rules = definitions.rules
    indicator = definitions.select([indicator_id])[0]
    span = parse_period(period, rules.tz)
    plans = plan_indicator(indicator, definitions, engine.vocab)
    # Every population joined (None: no count parameters), so each stay's membership is known.
    tally = IndicatorTally(indicator, [(p.code, p.criteria, p.excluded_by, None) for p in plans])
    criteria = [c for p in plans for c in [*p.criteria, *(p.excluded_by or [])]]
    streams = streams_for(criteria)
    searcher = engine.searcher()
    tag = engine.vocab.tenant_tag
    attributions: Attributions = {}
    if "events" in streams:
        region_scope = [("_tag", ",".join(f"{tag}|{o}" for o in region))] if region else []
        attributions = await Attributor(searcher, rules, engine.vocab, region_scope).attribute(span)
    scope = [("_tag", f"{tag}|{org}")]
    census = await joins.census(searcher, span, scope, engine.reader, rules.tz)
    if census and streams - {"events"}:
        await joins.stream_facts(
            searcher, span, scope, streams, census, criteria, engine.vocab, engine.reader
        )
    out = []
    for ref, facts in census.items():
        facts.ha = attributions.get(ref)
        codes = tuple(tally.joined_members(facts, engine.evaluator))
        if "initial-population" in codes:
            out.append(
                MemberStay(
                    ref,
                    facts.org,
                    facts.department_key,
                    facts.month,
                    facts.admitted,
                    facts.discharged,
                    codes,
                )
            )
    out.sort(key=lambda s: (s.discharged, s.ref))
    return out
