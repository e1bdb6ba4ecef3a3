"""Tables of research data sharing: requests, their transitions, extraction jobs, OMOP vocabulary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facade.db.base import Base
from facade.db.tables import utcnow


class ResearchRequest(Base):
    """A researcher's data request and, once decided, the grant (what may be extracted, until when).

    ``cohort``/``variables`` are what was asked for (JSON); ``granted_*`` what the steward allowed
    (equal on approve, narrower on narrow). ``state`` is the last stored state; an approval past
    ``expires_at`` is moved to ``expired`` the first time anyone looks at it.
    """

    __tablename__ = "research_request"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    researcher: Mapped[str] = mapped_column(String(64), index=True)  # client id of the requester
    project: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    ethics_approval: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(16))
    cohort: Mapped[str] = mapped_column(Text)
    variables: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    granted_period: Mapped[str | None] = mapped_column(String(16), nullable=True)
    granted_cohort: Mapped[str | None] = mapped_column(Text, nullable=True)
    granted_variables: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResearchTransition(Base):
    """One state change of a request: who, in which role, why, when (append-only)."""

    __tablename__ = "research_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("research_request.id"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResearchExtract(Base):
    """One extraction job of an approved request and, when done, where its files are."""

    __tablename__ = "research_extract"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("research_request.id"), index=True
    )
    requested_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)  # queued running done failed
    stage: Mapped[str] = mapped_column(String(64), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    directory: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OmopConcept(Base):
    """A concept of a loaded OHDSI vocabulary (only the source vocabularies the facade maps from,
    and the standard concepts they map to)."""

    __tablename__ = "omop_concept"
    __table_args__ = (Index("ix_omop_concept_code", "vocabulary_id", "concept_code"),)

    concept_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    concept_name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(String(20))
    vocabulary_id: Mapped[str] = mapped_column(String(20))
    concept_class_id: Mapped[str] = mapped_column(String(20))
    standard_concept: Mapped[str | None] = mapped_column(String(1), nullable=True)
    concept_code: Mapped[str] = mapped_column(String(50))
    invalid_reason: Mapped[str | None] = mapped_column(String(1), nullable=True)


class OmopConceptMap(Base):
    """A valid ``Maps to`` relationship: source concept -> standard concept."""

    __tablename__ = "omop_concept_map"

    source_concept_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    target_concept_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )


class OmopVocabularyLoad(Base):
    """One ``vte-facade omop vocab load``: what was read (the current vocabulary is the last)."""

    __tablename__ = "omop_vocabulary_load"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[str] = mapped_column(Text)
    release: Mapped[str | None] = mapped_column(String(100), nullable=True)
    concepts: Mapped[int] = mapped_column(Integer)
    mappings: Mapped[int] = mapped_column(Integer)
