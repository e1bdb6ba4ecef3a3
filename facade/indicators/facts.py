"""What the engine keeps per discharged stay while joining search results: a few numbers, no resources.

Each stream of ``_elements`` pages folds its resources into the stay's facts as they arrive
(earliest assessment, highest band, earliest executed start per category, ...), so memory grows
with the number of stays, never with the number of resources read.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

from facade.indicators.definitions import Category, Rules
from facade.indicators.results import department_key
from facade.indicators.vocab import Vocabulary

CATEGORIES = ("basic", "mechanical", "pharmacological")


def parse_time(value: str | None, tz: timezone) -> float | None:
    """Epoch seconds of a FHIR dateTime; a value without offset is read in the reporting zone."""
    if not value:
        return None
    if len(value) == 10:
        value += "T00:00:00"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def reference_id(reference: Any) -> str | None:
    """``Type/id`` of a literal reference (absolute URLs and history suffixes stripped)."""
    if not isinstance(reference, dict):
        return None
    value = reference.get("reference")
    if not isinstance(value, str):
        return None
    parts = value.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def extension_value(resource: dict[str, Any], url: str) -> Any:
    """The value[x] of the first extension with this URL (None when absent)."""
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def coding_code(concept: Any, system: str | None = None) -> str | None:
    """Code of the first coding (of ``system`` when given) of a CodeableConcept or Coding."""
    if not isinstance(concept, dict):
        return None
    codings = concept.get("coding") if "coding" in concept else [concept]
    for coding in codings or []:
        if system is None or coding.get("system") == system:
            code = coding.get("code")
            return str(code) if code is not None else None
    return None


def tag_code(resource: dict[str, Any], system: str) -> str | None:
    """Code of the first meta.tag of ``system``."""
    for tag in (resource.get("meta") or {}).get("tag") or []:
        if tag.get("system") == system:
            return str(tag.get("code"))
    return None


class StayFacts:
    """Facts about one stay discharged in the period."""

    __slots__ = (
        "admitted",
        "band",
        "band_time",
        "band_tool",
        "bleeding",
        "bleeding_high",
        "dept",
        "diagnoses",
        "discharged",
        "first_risk",
        "ha",
        "mech_ci",
        "mh_first",
        "month",
        "org",
        "patient",
        "starts",
        "surgical",
    )

    def __init__(
        self,
        org: str,
        dept: str | None,
        month: str,
        admitted: float,
        discharged: float,
    ) -> None:
        self.org = org
        self.dept = dept
        self.month = month
        self.admitted = admitted
        self.discharged = discharged
        self.patient: str | None = None  # Patient/<id> (research cohorts list the people)
        self.first_risk: float | None = None
        self.band = -1
        self.band_time = 0.0
        self.band_tool = ""
        self.mh_first: float | None = None
        self.bleeding = False
        self.bleeding_high = False
        self.mech_ci = False
        self.starts: list[float | None] = [None, None, None]
        self.surgical = False
        self.diagnoses: list[tuple[str, str]] | None = None
        self.ha: list[tuple[str, bool]] | None = None

    @property
    def department_key(self) -> str:
        """Stratum key of the discharge department."""
        return department_key(self.org, self.dept)


class FactReader:
    """Folds one resource of each stream into the facts of its stay."""

    def __init__(self, rules: Rules, vocab: Vocabulary) -> None:
        self.rules = rules
        self.vocab = vocab
        self.tz = rules.tz
        self.order = {band: i for i, band in enumerate(rules.risk.band_order)}
        self.prophylaxis_bands = {self.order[b] for b in rules.risk.prophylaxis_bands}
        self.executed = {vocab.fhir_status[c] for c in rules.prophylaxis.executed_statuses}
        self.category_index = {c.native_code: CATEGORIES.index(c.value) for c in Category}
        self.total_score = vocab.extension("total-score")
        self.poa_url = vocab.extension("present-on-admission")
        self.dept_url = vocab.extension("discharge-department")

    # -- census

    def stay(self, encounter: dict[str, Any], month_of: Any) -> StayFacts | None:
        """Facts of an Encounter from the census stream (None when it lacks what a stay needs)."""
        period = encounter.get("period") or {}
        admitted = parse_time(period.get("start"), self.tz)
        discharged = parse_time(period.get("end"), self.tz)
        org = tag_code(encounter, self.vocab.tenant_tag)
        if admitted is None or discharged is None or org is None:
            return None
        dept = coding_code(extension_value(encounter, self.dept_url))
        # Thousands of stays share a handful of hospital, department and month strings.
        facts = StayFacts(
            sys.intern(org),
            sys.intern(dept) if dept else None,
            sys.intern(month_of(discharged)),
            admitted,
            discharged,
        )
        facts.patient = reference_id(encounter.get("subject"))
        return facts

    # -- per stream

    def band_of(self, assessment: dict[str, Any]) -> tuple[int, str] | None:
        """(band index, tool) of a VTE risk assessment, by score or by the reported level."""
        tool = coding_code(assessment.get("method"), self.vocab.risk_tool) or coding_code(
            assessment.get("method")
        )
        if tool is None:
            return None
        bands = self.rules.tool_bands(tool)
        if self.rules.risk.band_source == "score" and bands is not None:
            score = extension_value(assessment, self.total_score)
            if score is None:
                return None
            return self.order[bands.band_of(float(score))], tool
        predictions = assessment.get("prediction") or [{}]
        level = coding_code(predictions[0].get("qualitativeRisk"), self.vocab.risk_level)
        band = self.rules.risk.reported_levels.get(level or "")
        return (self.order[band], tool) if band else None

    def risk(self, facts: StayFacts, assessment: dict[str, Any]) -> None:
        """A VTE risk assessment."""
        at = parse_time(assessment.get("occurrenceDateTime"), self.tz)
        banded = self.band_of(assessment)
        if at is None or banded is None:
            return
        band, tool = banded
        if facts.first_risk is None or at < facts.first_risk:
            facts.first_risk = at
        if band > facts.band or (band == facts.band and at < facts.band_time):
            facts.band, facts.band_time, facts.band_tool = band, at, tool
        if band in self.prophylaxis_bands and (facts.mh_first is None or at < facts.mh_first):
            facts.mh_first = at

    def bleeding(self, facts: StayFacts, assessment: dict[str, Any]) -> None:
        """A bleeding-risk assessment."""
        facts.bleeding = True
        predictions = assessment.get("prediction") or [{}]
        level = coding_code(predictions[0].get("qualitativeRisk"), self.vocab.bleeding_level)
        if level in self.rules.prophylaxis.bleeding_high_levels:
            facts.bleeding_high = True

    def mechanical_check(self, facts: StayFacts, observation: dict[str, Any]) -> None:
        """A mechanical-prophylaxis contraindication assessment."""
        if observation.get("valueBoolean") is True:
            facts.mech_ci = True

    def measure(self, facts: StayFacts, resource: dict[str, Any]) -> None:
        """A prophylaxis Procedure or MedicationAdministration."""
        if resource.get("status") not in self.executed:
            return
        category = coding_code(resource.get("category"), self.vocab.prophylaxis_category)
        index = self.category_index.get(category or "")
        period = resource.get("performedPeriod") or resource.get("effectivePeriod") or {}
        start = parse_time(period.get("start"), self.tz)
        if index is None or start is None:
            return
        current = facts.starts[index]
        if current is None or start < current:
            facts.starts[index] = start

    def operation(self, facts: StayFacts, _procedure: dict[str, Any]) -> None:
        """A front-page operation."""
        facts.surgical = True

    def diagnosis(self, facts: StayFacts, condition: dict[str, Any]) -> None:
        """A front-page diagnosis (only the 入院病情 codes some indicator asks for are fetched)."""
        code = coding_code(condition.get("code"), self.vocab.icd10)
        poa = coding_code(extension_value(condition, self.poa_url))
        if code is None or poa is None:
            return
        if facts.diagnoses is None:
            facts.diagnoses = []
        facts.diagnoses.append((code, poa))
