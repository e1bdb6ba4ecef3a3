"""Strict models of the indicator definitions (``mappings/indicators/*.yaml``) and their loader."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from facade.errors import ConfigurationError

CONFIG_FILE = "_config.yaml"
M = TypeVar("M", bound=BaseModel)


class DefinitionError(ConfigurationError):
    """An indicator file is malformed or inconsistent; the message starts with ``file: key:``."""


class Strict(BaseModel):
    """Every definition model refuses unknown keys, so a typo fails at start-up, not in a report."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Category(StrEnum):
    """Prophylaxis categories, by the codes of the native prophylaxis-category table."""

    BASIC = "basic"
    MECHANICAL = "mechanical"
    PHARMACOLOGICAL = "pharmacological"

    @property
    def native_code(self) -> str:
        """Code of the category in the prophylaxis-category code table."""
        return {"basic": "1", "mechanical": "2", "pharmacological": "3"}[self.value]


class Onset(StrEnum):
    """How a hospital-associated VTE relates to the stay it is attributed to."""

    IN_HOSPITAL = "in-hospital"
    POST_DISCHARGE = "post-discharge"


# -- criteria: one kind each; a population is the conjunction of its criteria


class _Criterion(Strict):
    negate: bool = False


class VteRiskAssessed(_Criterion):
    """At least one VTE risk assessment during the stay."""

    kind: Literal["vte-risk-assessed"]


class VteRiskAssessedWithin(_Criterion):
    """The first VTE risk assessment at most ``hours`` after admission (equal counts)."""

    kind: Literal["vte-risk-assessed-within"]
    hours: float = Field(gt=0)


class BleedingRiskAssessed(_Criterion):
    """At least one bleeding-risk assessment during the stay."""

    kind: Literal["bleeding-risk-assessed"]


class RiskBand(_Criterion):
    """The stay's VTE risk band (highest of its assessments) is one of ``bands``."""

    kind: Literal["risk-band"]
    bands: list[str] = Field(min_length=1)


class ProphylaxisGiven(_Criterion):
    """At least one executed measure of ``category`` during the stay."""

    kind: Literal["prophylaxis-given"]
    category: Category


class AppropriateProphylaxis(_Criterion):
    """规范预防 per the matrix and rules of ``_config.yaml``."""

    kind: Literal["appropriate-prophylaxis"]


class HaVte(_Criterion):
    """A hospital-associated VTE of one of ``onsets`` is attributed to the stay."""

    kind: Literal["ha-vte"]
    onsets: list[Onset] = Field(min_length=1)


class HaVteDeath(_Criterion):
    """An attributed hospital-associated VTE (of ``onsets``) is marked as VTE-related death."""

    kind: Literal["ha-vte-death"]
    onsets: list[Onset] = Field(min_length=1)


class Surgical(_Criterion):
    """At least one operation (ICD-9-CM-3 coded procedure of the front page) during the stay."""

    kind: Literal["surgical"]


class DischargeDiagnosis(_Criterion):
    """A front-page diagnosis whose ICD-10 code starts with a prefix and whose 入院病情 is listed."""

    kind: Literal["discharge-diagnosis"]
    icd10_prefixes: list[str] = Field(min_length=1)
    present_on_admission: list[str] = Field(min_length=1)


Criterion = Annotated[
    VteRiskAssessed
    | VteRiskAssessedWithin
    | BleedingRiskAssessed
    | RiskBand
    | ProphylaxisGiven
    | AppropriateProphylaxis
    | HaVte
    | HaVteDeath
    | Surgical
    | DischargeDiagnosis,
    Field(discriminator="kind"),
]


class PopulationCode(StrEnum):
    """MeasurePopulationType codes the definitions use."""

    INITIAL = "initial-population"
    DENOMINATOR = "denominator"
    EXCLUSION = "denominator-exclusion"
    NUMERATOR = "numerator"


class Population(Strict):
    """One population: its description and the criteria added to the enclosing population's."""

    description: Text
    criteria: list[Criterion] = Field(default_factory=list)


class Stratifier(StrEnum):
    """Stratifiers the engine knows how to compute."""

    HOSPITAL = "hospital"
    DEPARTMENT = "discharge-department"
    MONTH = "discharge-month"


class Indicator(Strict):
    """One indicator file. Populations nest: initial ⊇ denominator ⊇ numerator; exclusions come
    out of the denominator before the numerator is counted (DEQM proportion scoring)."""

    id: str = Field(pattern=r"^[A-Z][0-9][a-z]?$")
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    version: int = Field(ge=1)
    category: Literal["assessment", "prevention", "outcome"]
    name: Text
    definition: Text
    formula: Text
    evidence: str
    improvement: Literal["increase", "decrease"]
    # Unit of analysis: inpatient stays (人次) counted by discharge date-time in the period.
    basis: Literal["discharge"] = "discharge"
    populations: dict[PopulationCode, Population]
    stratifiers: list[Stratifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _required_populations(self) -> Indicator:
        for code in (PopulationCode.INITIAL, PopulationCode.DENOMINATOR, PopulationCode.NUMERATOR):
            if code not in self.populations:
                raise ValueError(f"population {code.value!r} is required")
        return self

    def chain(self, code: PopulationCode) -> list[Criterion]:
        """All criteria a stay must meet to be in population ``code`` (enclosing ones included).

        The numerator's exclusion (stays in the denominator-exclusion) is applied by the caller,
        because it is a negated conjunction, not a criterion list.
        """
        order = [PopulationCode.INITIAL, PopulationCode.DENOMINATOR]
        if code is PopulationCode.EXCLUSION:
            order.append(PopulationCode.EXCLUSION)
        elif code is PopulationCode.NUMERATOR:
            order.append(PopulationCode.NUMERATOR)
        elif code is PopulationCode.INITIAL:
            order = [PopulationCode.INITIAL]
        return [c for step in order for c in self.populations[step].criteria]

    @property
    def codes(self) -> list[PopulationCode]:
        """Population codes present, in MeasureReport order."""
        return [code for code in PopulationCode if code in self.populations]


# -- shared rules (_config.yaml)


class Band(Strict):
    """A band starts at ``from`` points (inclusive) and runs to the next band's start."""

    band: str
    start: float = Field(alias="from", ge=0)


class ToolBands(Strict):
    """The band cut-offs of one VTE risk tool (code of the vte-risk-tool table)."""

    tool: str
    name: str
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> ToolBands:
        starts = [b.start for b in self.bands]
        if starts != sorted(starts) or len(set(starts)) != len(starts) or starts[0] != 0:
            raise ValueError(f"bands of tool {self.tool} must start at 0 and strictly ascend")
        return self

    def band_of(self, score: float) -> str:
        """The band a total score falls in."""
        chosen = self.bands[0].band
        for band in self.bands:
            if score >= band.start:
                chosen = band.band
        return chosen


class RiskRules(Strict):
    """How an assessment's risk band is decided."""

    band_source: Literal["score", "reported"]
    band_order: list[str] = Field(min_length=2)
    prophylaxis_bands: list[str] = Field(min_length=1)
    tools: list[ToolBands]
    reported_levels: dict[str, str]


class MatrixRow(Strict):
    """One row of the appropriate-prophylaxis matrix."""

    tool: str
    band: str
    bleeding_low: list[list[Category]] = Field(min_length=1)
    bleeding_high: list[list[Category]] = Field(min_length=1)


class ProphylaxisRules(Strict):
    """What counts as given, in time and appropriate."""

    executed_statuses: list[str] = Field(min_length=1)
    start_within_hours: float | None = Field(default=None, gt=0)
    require_bleeding_assessment: bool
    bleeding_high_levels: list[str] = Field(min_length=1)
    mechanical_contraindication_waives_mechanical: bool
    matrix: list[MatrixRow] = Field(min_length=1)


class InHospitalRule(Strict):
    """When a VTE event is of in-hospital onset."""

    present_on_admission_codes: list[str] = Field(min_length=1)
    min_hours_after_admission: float = Field(ge=0)


class HaVteRules(Strict):
    """Hospital-associated VTE: onset in hospital, or within N days after a discharge."""

    in_hospital: InHospitalRule
    post_discharge_days: int = Field(ge=1)


class Rules(Strict):
    """``_config.yaml``."""

    version: int = Field(ge=1)
    timezone: str = Field(pattern=r"^[+-][0-9]{2}:[0-9]{2}$")
    risk: RiskRules
    prophylaxis: ProphylaxisRules
    ha_vte: HaVteRules

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        known = set(self.risk.band_order)
        used = set(self.risk.prophylaxis_bands) | set(self.risk.reported_levels.values())
        used |= {b.band for tool in self.risk.tools for b in tool.bands}
        used |= {row.band for row in self.prophylaxis.matrix}
        unknown = used - known
        if unknown:
            raise ValueError(f"bands not in band_order: {sorted(unknown)}")
        for band in self.risk.band_order:
            if not any(row.tool == "*" and row.band == band for row in self.prophylaxis.matrix):
                raise ValueError(f"matrix needs a fallback row (tool '*') for band {band!r}")
        return self

    @property
    def tz(self) -> dt.timezone:
        """The reporting time zone."""
        sign = 1 if self.timezone[0] == "+" else -1
        hours, minutes = int(self.timezone[1:3]), int(self.timezone[4:6])
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))

    def tool_bands(self, tool: str) -> ToolBands | None:
        """The cut-offs of a tool, if configured."""
        return next((t for t in self.risk.tools if t.tool == tool), None)

    def matrix_row(self, tool: str, band: str) -> MatrixRow:
        """The matrix row for the tool that set the band (falling back to tool '*')."""
        rows = self.prophylaxis.matrix
        found = next((r for r in rows if r.tool == tool and r.band == band), None)
        return found or next(r for r in rows if r.tool == "*" and r.band == band)


class Definitions(Strict):
    """Every indicator and the shared rules, loaded together."""

    rules: Rules
    indicators: dict[str, Indicator]

    def select(self, ids: list[str] | None) -> list[Indicator]:
        """The indicators named (all when None), in file order; unknown ids raise DefinitionError."""
        if not ids:
            return list(self.indicators.values())
        missing = [i for i in ids if i not in self.indicators]
        if missing:
            known = ", ".join(self.indicators)
            raise DefinitionError(f"unknown indicator(s) {', '.join(missing)}; known: {known}")
        return [self.indicators[i] for i in ids]


def load_definitions(directory: Path) -> Definitions:
    """Load ``_config.yaml`` and every ``<id>.yaml``; raise DefinitionError naming file and key."""
    if not directory.is_dir():
        raise DefinitionError(f"{directory}: indicator directory not found")
    rules = _parse(Rules, directory / CONFIG_FILE)
    indicators: dict[str, Indicator] = {}
    slugs: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml"), key=_natural):
        if path.name == CONFIG_FILE:
            continue
        indicator = _parse(Indicator, path)
        if indicator.id != path.stem:
            raise DefinitionError(f"{path.name}: id: {indicator.id!r} must equal the file name")
        if indicator.slug in slugs:
            raise DefinitionError(
                f"{path.name}: slug: {indicator.slug!r} is also used by {slugs[indicator.slug]}"
            )
        slugs[indicator.slug] = indicator.id
        _check_against_rules(path, indicator, rules)
        indicators[indicator.id] = indicator
    if not indicators:
        raise DefinitionError(f"{directory}: no indicator files")
    return Definitions(rules=rules, indicators=indicators)


def _check_against_rules(path: Path, indicator: Indicator, rules: Rules) -> None:
    known = set(rules.risk.band_order)
    for code, population in indicator.populations.items():
        for index, criterion in enumerate(population.criteria):
            if isinstance(criterion, RiskBand) and not set(criterion.bands) <= known:
                bad = sorted(set(criterion.bands) - known)
                raise DefinitionError(
                    f"{path.name}: populations.{code.value}.criteria[{index}].bands: unknown band(s) {bad}"
                )


def _parse(model: type[M], path: Path) -> M:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionError(f"{path.name}: file not found") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise DefinitionError(f"{path.name}: {where}: {first['msg']}") from exc


def _natural(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]
