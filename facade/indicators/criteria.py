"""Each criterion kind twice: as FHIR search parameters on Encounter (when it can be one) and as a
test on the joined facts of a stay (always).

A population whose criteria all have a search form is counted by HAPI with ``_summary=count``;
any other is evaluated on the census of stays. ``_has`` works only for a plain existence test on
one search parameter of the dependent resource, so, for example, "a mechanical measure that was
executed" (two conditions on one Procedure) is a join, not a count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facade.indicators.definitions import (
    AppropriateProphylaxis,
    BleedingRiskAssessed,
    Category,
    Criterion,
    DischargeDiagnosis,
    HaVte,
    HaVteDeath,
    ProphylaxisGiven,
    RiskBand,
    Rules,
    Surgical,
    VteRiskAssessed,
    VteRiskAssessedWithin,
)
from facade.indicators.facts import CATEGORIES, StayFacts
from facade.indicators.vocab import Vocabulary

Params = list[tuple[str, str]]

# Streams of dependent resources a criterion needs on the join path.
STREAMS_OF: dict[type, tuple[str, ...]] = {
    VteRiskAssessed: ("risk",),
    VteRiskAssessedWithin: ("risk",),
    BleedingRiskAssessed: ("bleeding",),
    RiskBand: ("risk",),
    ProphylaxisGiven: ("procedure-measures", "drug-measures"),
    AppropriateProphylaxis: (
        "risk",
        "bleeding",
        "mechanical-check",
        "procedure-measures",
        "drug-measures",
    ),
    HaVte: ("events",),
    HaVteDeath: ("events",),
    Surgical: ("operations",),
    DischargeDiagnosis: ("diagnoses",),
}


def search_form(criterion: Criterion, rules: Rules, vocab: Vocabulary) -> Params | None:
    """Encounter search parameters equivalent to the criterion, or None when there are none."""
    if criterion.negate:
        return None
    # R4 RiskAssessment has no ``code`` search parameter: the two kinds differ by profile.
    if isinstance(criterion, VteRiskAssessed):
        return [("_has:RiskAssessment:encounter:_profile", vocab.risk_profile)]
    if isinstance(criterion, BleedingRiskAssessed):
        return [("_has:RiskAssessment:encounter:_profile", vocab.bleeding_profile)]
    if isinstance(criterion, Surgical):
        return [("_has:Procedure:encounter:code", f"{vocab.icd9}|")]
    if isinstance(criterion, ProphylaxisGiven) and criterion.category is Category.PHARMACOLOGICAL:
        # Every MedicationAdministration of a stay is a prophylaxis order in this guide, and its
        # profile requires an execution start; so an executed status is the whole test.
        statuses = sorted({vocab.fhir_status[c] for c in rules.prophylaxis.executed_statuses})
        return [("_has:MedicationAdministration:context:status", ",".join(statuses))]
    if isinstance(criterion, RiskBand) and rules.risk.band_source == "reported":
        # "highest band in B" equals "some assessment in B" only when B is the top of the order.
        order = rules.risk.band_order
        wanted = set(criterion.bands)
        if wanted != set(order[len(order) - len(wanted) :]):
            return None
        codes = sorted(code for code, band in rules.risk.reported_levels.items() if band in wanted)
        return [
            (
                "_has:RiskAssessment:encounter:risk",
                ",".join(f"{vocab.risk_level}|{c}" for c in codes),
            )
        ]
    return None


def streams_for(criteria: list[Criterion]) -> set[str]:
    """Dependent streams the join evaluation of these criteria reads."""
    return {stream for c in criteria for stream in STREAMS_OF[type(c)]}


class Evaluator:
    """Tests criteria on stay facts; matrix lookups are cached per (tool, band, bleeding, waiver)."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.order = rules.risk.band_order
        self.prophylaxis_bands = {self.order.index(b) for b in rules.risk.prophylaxis_bands}
        window = rules.prophylaxis.start_within_hours
        self.window = window * 3600 if window is not None else None
        self._options: dict[tuple[str, int, bool, bool], list[list[int]]] = {}
        # Each test takes its own criterion type; the table is keyed by that type.
        self._tests: dict[type, Callable[[Any, StayFacts], bool]] = {
            VteRiskAssessed: lambda c, f: f.first_risk is not None,
            VteRiskAssessedWithin: self._within,
            BleedingRiskAssessed: lambda c, f: f.bleeding,
            RiskBand: self._band,
            ProphylaxisGiven: self._given,
            AppropriateProphylaxis: lambda c, f: self.appropriate(f),
            HaVte: self._ha_vte,
            HaVteDeath: self._ha_death,
            Surgical: lambda c, f: f.surgical,
            DischargeDiagnosis: self._diagnosis,
        }

    def holds(self, criteria: list[Criterion], facts: StayFacts) -> bool:
        """Whether the stay meets every criterion (negations applied)."""
        return all(self._tests[type(c)](c, facts) != c.negate for c in criteria)

    def _within(self, c: VteRiskAssessedWithin, f: StayFacts) -> bool:
        return f.first_risk is not None and f.first_risk - f.admitted <= c.hours * 3600

    def _band(self, c: RiskBand, f: StayFacts) -> bool:
        return f.band >= 0 and self.order[f.band] in c.bands

    def _given(self, c: ProphylaxisGiven, f: StayFacts) -> bool:
        return f.starts[CATEGORIES.index(c.category.value)] is not None

    def _ha_vte(self, c: HaVte, f: StayFacts) -> bool:
        return any(onset in c.onsets for onset, _ in f.ha or ())

    def _ha_death(self, c: HaVteDeath, f: StayFacts) -> bool:
        return any(onset in c.onsets and death for onset, death in f.ha or ())

    def _diagnosis(self, c: DischargeDiagnosis, f: StayFacts) -> bool:
        prefixes = tuple(c.icd10_prefixes)
        return any(
            poa in c.present_on_admission and code.startswith(prefixes)
            for code, poa in f.diagnoses or ()
        )

    def appropriate(self, f: StayFacts) -> bool:
        """规范预防: both assessments, and a matrix alternative started in time."""
        p = self.rules.prophylaxis
        if f.first_risk is None or (p.require_bleeding_assessment and not f.bleeding):
            return False
        options = self._matrix(f.band_tool, f.band, f.bleeding_high, f.mech_ci)
        reference = f.mh_first if f.band in self.prophylaxis_bands else f.first_risk
        if reference is None:  # cannot happen: an assessed stay has a first (medium/high) time
            return False
        deadline = reference + self.window if self.window is not None else None
        given = [s is not None and (deadline is None or s <= deadline) for s in f.starts]
        return any(all(given[i] for i in alternative) for alternative in options)

    def _matrix(self, tool: str, band: int, bleeding_high: bool, mech_ci: bool) -> list[list[int]]:
        key = (tool, band, bleeding_high, mech_ci)
        found = self._options.get(key)
        if found is None:
            row = self.rules.matrix_row(tool, self.order[band])
            cells = row.bleeding_high if bleeding_high else row.bleeding_low
            waive = mech_ci and self.rules.prophylaxis.mechanical_contraindication_waives_mechanical
            found = [
                [CATEGORIES.index(c.value) for c in alt if not (waive and c is Category.MECHANICAL)]
                for alt in cells
            ]
            self._options[key] = found
        return found
