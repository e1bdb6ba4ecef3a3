"""What a research request says (strict input models) and the states it can be in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facade.indicators.definitions import Criterion, PopulationCode


class Strict(BaseModel):
    """Unknown keys are refused, so a misspelt criterion fails loudly instead of widening a cohort."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class State(StrEnum):
    """Where a request stands; ``approved`` and ``narrowed`` are the two kinds of live grant."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    NARROWED = "narrowed"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def granted(self) -> bool:
        """Whether the request holds a live grant (extraction and downloads allowed)."""
        return self in (State.APPROVED, State.NARROWED)


class Cohort(Strict):
    """Which stays: those discharged in the request's period that meet the criteria.

    Either name a population of a quality indicator (``indicator: C1, population: numerator`` is
    "stays with hospital-associated VTE") or list criteria of the same kinds the indicator files
    use (mappings/indicators/README.md); both may be given (all must hold). ``orgs`` limits the
    hospitals (empty: the whole region).
    """

    indicator: str | None = Field(default=None, pattern=r"^[A-Z][0-9][a-z]?$")
    population: PopulationCode = PopulationCode.NUMERATOR
    criteria: list[Criterion] = Field(default_factory=list)
    orgs: list[str] = Field(default_factory=list, max_length=200)
    description: str | None = Field(default=None, max_length=500)


class RequestIn(Strict):
    """A researcher's application."""

    project: str = Field(min_length=3, max_length=200)
    purpose: str = Field(min_length=10, max_length=4000)
    ethics_approval: str = Field(alias="ethicsApproval", min_length=3, max_length=100)
    period: str = Field(min_length=4, max_length=16, description="YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM")
    cohort: Cohort
    variables: list[str] = Field(min_length=1, max_length=500)


class Decision(StrEnum):
    """What a data steward can decide about a submitted request."""

    APPROVE = "approve"
    NARROW = "narrow"
    REJECT = "reject"


class DecisionIn(Strict):
    """A steward's decision; narrowing must take something away (variables, cohort or period)."""

    decision: Decision
    reason: str = Field(min_length=3, max_length=2000)
    expires: datetime | None = None
    variables: list[str] | None = None
    cohort: Cohort | None = None
    period: str | None = None

    @model_validator(mode="after")
    def _narrowing(self) -> DecisionIn:
        changes = (self.variables, self.cohort, self.period)
        if self.decision is Decision.NARROW and all(c is None for c in changes):
            raise ValueError("narrow needs variables, cohort or period to narrow to")
        if self.decision is not Decision.NARROW and any(c is not None for c in changes):
            raise ValueError("only narrow may change variables, cohort or period")
        if self.decision is Decision.REJECT and self.expires is not None:
            raise ValueError("a rejection has no expiry")
        return self


class RevokeIn(Strict):
    """A steward withdrawing a grant."""

    reason: str = Field(min_length=3, max_length=2000)
