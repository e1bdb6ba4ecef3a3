"""Strict models of ``mappings/quality/*.yaml``: the shared configuration and every rule kind.

Schema documentation: ``mappings/quality/README.md``. Families (``required-fields``,
``code-table-values``, ...) expand into one scored check per record type and field in
``facade.quality.rules``; cross-file checks against the data dictionary happen there too.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, model_validator

from facade.indicators.definitions import Strict, Text

RULE_ID = r"^[a-z]+(\.[a-z0-9-]+)+$"
Severity = Literal["error", "warning", "info"]
KahnCategory = Literal["conformance", "completeness", "plausibility"]
KahnSubcategory = Literal[
    "value", "relational", "computational", "uniqueness", "atemporal", "temporal"
]


class Kahn(Strict):
    """Where a rule sits in the harmonized framework of Kahn et al. (2016)."""

    category: KahnCategory
    subcategory: KahnSubcategory | None = None


# -- _config.yaml


class Dimension(Strict):
    """A GB/T 36344 indicator reports are scored on, with the Kahn categories it may hold."""

    id: Literal["conformity", "completeness", "accuracy", "consistency", "timeliness"]
    zh: str
    en: str
    kahn: list[KahnCategory] = Field(min_length=1)


class GradeBand(Strict):
    """A grade starts at ``from`` points (inclusive)."""

    grade: str = Field(pattern=r"^[A-Z]$")
    start: float = Field(alias="from", ge=0, le=100)


class StayConfig(Strict):
    """The inpatient stay other clinical records link to, and the fields the rules read from it."""

    record_type: str
    link_field: str
    admission_field: str
    discharge_field: str
    disposition_field: str
    death_codes: list[str] = Field(min_length=1)
    patient_field: str


class ReportConfig(Strict):
    """How much a report lists."""

    top_problems: int = Field(ge=1, le=100)
    ids_per_problem: int = Field(ge=1, le=1000)


class QualityConfig(Strict):
    """``_config.yaml``."""

    version: int = Field(ge=1)
    timezone: str = Field(pattern=r"^[+-][0-9]{2}:[0-9]{2}$")
    dimensions: list[Dimension] = Field(min_length=1)
    severities: dict[Severity, float]
    grades: list[GradeBand] = Field(min_length=1)
    stay: StayConfig
    time_fields: dict[str, list[str]]
    report: ReportConfig

    @model_validator(mode="after")
    def _consistent(self) -> QualityConfig:
        ids = [d.id for d in self.dimensions]
        if len(set(ids)) != len(ids):
            raise ValueError("dimension ids must be unique")
        if set(self.severities) != {"error", "warning", "info"}:
            raise ValueError("severities must weigh error, warning and info")
        starts = [g.start for g in self.grades]
        if starts != sorted(starts, reverse=True) or starts[-1] != 0:
            raise ValueError("grades must descend and the last must start at 0")
        return self

    @cached_property
    def tz(self) -> dt.timezone:
        """The reporting time zone."""
        sign = 1 if self.timezone[0] == "+" else -1
        hours, minutes = int(self.timezone[1:3]), int(self.timezone[4:6])
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))

    def dimension(self, dimension_id: str) -> Dimension:
        """A dimension by id; KeyError if unknown."""
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    def grade(self, score: float) -> str:
        """The grade of a 0-100 score."""
        return next(g.grade for g in self.grades if score >= g.start)


# -- rules: one kind each


class _Rule(Strict):
    id: str = Field(pattern=RULE_ID, max_length=60)
    dimension: str
    kahn: Kahn
    severity: Severity
    threshold: float = Field(ge=0, le=1, description="Highest problem rate that still passes.")
    name: Text
    description: Text


class RequiredFields(_Rule):
    """Family: one check per field whose absence the dictionary refuses (3001 at that field)."""

    kind: Literal["required-fields"]


class When(Strict):
    """Where a recommended field applies: another field present, or a coded field with these codes."""

    present: str | None = None
    field: str | None = None
    codes: list[str] | None = None

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.present is None) == (self.field is None) or (self.field is None) != (
            self.codes is None
        ):
            raise ValueError("give either 'present', or 'field' with 'codes'")
        return self

    @property
    def key(self) -> str:
        """Compact text naming the condition (part of a population token)."""
        if self.present is not None:
            return self.present
        return f"{self.field}={'|'.join(self.codes or [])}"


class Recommended(Strict):
    """A recommended field (``group.field`` for an item field) and where it applies."""

    field: str
    when: When | None = None


class RecommendedFields(_Rule):
    """Family: one check per listed field; absent on an accepted record where it applies."""

    kind: Literal["recommended-fields"]
    fields: dict[str, list[Recommended]] = Field(min_length=1)


class RefusedCode(_Rule):
    """Family: one check per native record code; the latest submission was refused with it."""

    kind: Literal["refused-code"]
    codes: list[str] = Field(min_length=1)


class CodeTableValues(_Rule):
    """Family: one check per field with a code table; refused with 3003 at that field."""

    kind: Literal["code-table-values"]


class WithinStay(_Rule):
    """The record's time lies between the admission and the discharge of its stay."""

    kind: Literal["within-stay"]
    record_types: list[str] = Field(min_length=1)


class AfterFirstAssessment(_Rule):
    """``time_field`` is not before the first ``assessment_type`` record of the stay."""

    kind: Literal["after-first-assessment"]
    record_types: list[str] = Field(min_length=1)
    time_field: str
    assessment_type: str


class AgeRange(_Rule):
    """Whole years from ``birth_field`` to ``at_field`` lie within [min_years, max_years]."""

    kind: Literal["age-range"]
    record_type: str
    birth_field: str
    at_field: str
    min_years: int = Field(ge=0)
    max_years: int = Field(le=150)


class ScoreBand(Strict):
    """A score from ``from`` (inclusive) up to the next band belongs to one of ``levels``."""

    start: float = Field(alias="from")
    levels: list[str] = Field(min_length=1)


class ScoreBands(_Rule):
    """The reported level agrees with the band the score falls in (per tool or variant)."""

    kind: Literal["score-band"]
    record_type: str
    selector_field: str
    score_field: str
    level_field: str
    bands: dict[str, list[ScoreBand]] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> ScoreBands:
        for selector, bands in self.bands.items():
            starts = [b.start for b in bands]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                raise ValueError(f"bands of {selector!r} must strictly ascend")
        return self


class Duplicates(_Rule):
    """Family: one check per record type; same natural key, different record id."""

    kind: Literal["duplicates"]
    keys: dict[str, list[str]] = Field(min_length=1)


class Orphans(_Rule):
    """Records whose latest submission was refused with 3006 (the stay never arrived)."""

    kind: Literal["orphans"]
    record_types: list[str] = Field(min_length=1)


class AfterDeathRecords(_Rule):
    """Records of a stay that ended in death, dated after the death."""

    kind: Literal["after-death-records"]
    record_types: list[str] = Field(min_length=1)


class AfterDeathStays(_Rule):
    """Stays admitted after the same patient's earlier death at the same hospital."""

    kind: Literal["after-death-stays"]


class Lag(_Rule):
    """Days from ``from_field`` to the first receipt carrying it exceed ``deadline_days``."""

    kind: Literal["lag"]
    record_type: str
    from_field: str
    deadline_days: int = Field(ge=1, le=365)


class _Daily(_Rule):
    """A day is judged when the mean of the ``history_days`` before it reaches ``min_baseline``."""

    record_type: str
    history_days: int = Field(ge=1, le=366)
    min_baseline: float = Field(gt=0)


class DailyGap(_Daily):
    """Days without a record although the hospital's recent history says there should be some."""

    kind: Literal["daily-gap"]


class DailyDrop(_Daily):
    """Days with fewer than ``ratio`` × the recent mean (but more than none)."""

    kind: Literal["daily-drop"]
    ratio: float = Field(gt=0, lt=1)


class Corrections(_Rule):
    """Accepted records whose recordVersion is above 1."""

    kind: Literal["corrections"]


RuleSpec = Annotated[
    RequiredFields
    | RecommendedFields
    | RefusedCode
    | CodeTableValues
    | WithinStay
    | AfterFirstAssessment
    | AgeRange
    | ScoreBands
    | Duplicates
    | Orphans
    | AfterDeathRecords
    | AfterDeathStays
    | Lag
    | DailyGap
    | DailyDrop
    | Corrections,
    Field(discriminator="kind"),
]


class RuleFile(Strict):
    """One rule file: a version and its rules."""

    version: int = Field(ge=1)
    rules: list[RuleSpec] = Field(min_length=1)
