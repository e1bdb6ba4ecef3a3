"""A grant's cohort as stays: the indicator engine's census, fact streams and criteria, reused."""

from __future__ import annotations

from dataclasses import dataclass

from facade.indicators.definitions import Criterion, Definitions
from facade.indicators.engine import IndicatorEngine
from facade.indicators.facts import StayFacts
from facade.research.models import Cohort


@dataclass(frozen=True)
class Stays:
    """The stays of a cohort (``Encounter/<id>`` -> facts) and their patients (``Patient/<id>``)."""

    stays: dict[str, StayFacts]

    @property
    def patients(self) -> list[str]:
        """Every patient with a stay in the cohort, sorted."""
        return sorted({f.patient for f in self.stays.values() if f.patient})

    @property
    def encounter_ids(self) -> set[str]:
        """Logical ids of the cohort's Encounters."""
        return {ref.split("/", 1)[1] for ref in self.stays}


def criteria_of(cohort: Cohort, definitions: Definitions) -> list[Criterion]:
    """The cohort's criteria: those of the named indicator population (if any), then its own."""
    chain: list[Criterion] = []
    if cohort.indicator is not None:
        chain = definitions.indicators[cohort.indicator].chain(cohort.population)
    return [*chain, *cohort.criteria]


async def select(engine: IndicatorEngine, period: str, cohort: Cohort) -> Stays:
    """Stays discharged in ``period`` that meet the cohort's criteria."""
    criteria = criteria_of(cohort, engine.definitions)
    found = await engine.select_stays(period, criteria, orgs=cohort.orgs or None)
    return Stays(found)
