"""Requests from submission to expiry: the allowed transitions, each stored with who, why and when.

    submitted ──approve──▶ approved ──revoke──▶ revoked
        │      ──narrow───▶ narrowed ──revoke──▶ revoked
        └──────reject─────▶ rejected       (approved|narrowed) ──time──▶ expired

Only a data steward (role ``admin``) decides and revokes; only the requesting researcher sees a
request besides the stewards. An approval past its expiry is stored as ``expired`` the first time
anyone reads it (the transition is written then, by actor ``system``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from facade.db import Database
from facade.errors import Conflict, Forbidden, InvalidInput, Issue, NotFound
from facade.indicators.definitions import Definitions
from facade.indicators.periods import parse_period
from facade.research.models import Cohort, Decision, DecisionIn, RequestIn, State
from facade.research.tables import ResearchRequest, ResearchTransition
from facade.settings import Settings

STEWARD = "admin"
RESEARCHER = "researcher"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts: a client id and its role (``system`` for expiry)."""

    id: str
    role: str

    @property
    def steward(self) -> bool:
        """Whether the actor may decide and revoke."""
        return self.role == STEWARD


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def check_request(body: RequestIn, definitions: Definitions, known: set[str]) -> None:
    """Refuse an unknown period format, indicator or variable, naming the field."""
    parse_period(body.period, definitions.rules.tz)
    check_cohort(body.cohort, definitions, "cohort")
    unknown = sorted(set(body.variables) - known)
    if unknown:
        raise InvalidInput(
            f"unknown variable(s): {', '.join(unknown[:10])}",
            issues=[
                Issue("variables", "known-variable", f"{v} is not in the catalogue")
                for v in unknown[:20]
            ],
        )


def check_cohort(cohort: Cohort, definitions: Definitions, where: str) -> None:
    """A cohort must name a known indicator (if any) and select something narrower than everyone."""
    if cohort.indicator is not None and cohort.indicator not in definitions.indicators:
        raise InvalidInput(
            f"unknown indicator {cohort.indicator}",
            issues=[Issue(f"{where}.indicator", "known-indicator", "no such indicator file")],
        )
    if cohort.indicator is not None:
        indicator = definitions.indicators[cohort.indicator]
        if cohort.population not in indicator.populations:
            raise InvalidInput(
                f"indicator {cohort.indicator} has no population {cohort.population.value}",
                issues=[Issue(f"{where}.population", "known-population", "not in the indicator")],
            )


def submit(database: Database, actor: Actor, body: RequestIn) -> dict[str, Any]:
    """Store a new request (state ``submitted``); the caller has checked it."""
    if actor.role != RESEARCHER:
        raise Forbidden("only a researcher submits data requests")
    now = _now()
    row = ResearchRequest(
        id=str(uuid.uuid4()),
        researcher=actor.id,
        project=body.project,
        purpose=body.purpose,
        ethics_approval=body.ethics_approval,
        period=parse_period(body.period, UTC).label,  # the label does not depend on the zone
        cohort=body.cohort.model_dump_json(exclude_defaults=True),
        variables=_dump(sorted(set(body.variables))),
        state=State.SUBMITTED.value,
        created_at=now,
        updated_at=now,
    )
    with database.session() as session:
        session.add(row)
        _transition(session, row, None, State.SUBMITTED, actor, None)
        return view(session, row)


def decide(
    database: Database,
    settings: Settings,
    definitions: Definitions,
    actor: Actor,
    request_id: str,
    body: DecisionIn,
) -> dict[str, Any]:
    """Approve, narrow or reject a submitted request."""
    if not actor.steward:
        raise Forbidden("only a data steward (admin) decides data requests")
    with database.session() as session:
        row = _load(session, request_id)
        if row.state != State.SUBMITTED.value:
            raise Conflict(f"request is {row.state}; only a submitted request can be decided")
        if row.researcher == actor.id:
            raise Forbidden("a steward may not decide a request of their own")
        now = _now()
        if body.decision is Decision.REJECT:
            _move(session, row, State.REJECTED, actor, body.reason)
            return view(session, row)
        expires = _expiry(settings, body.expires, now)
        variables: list[str] = orjson.loads(row.variables)
        cohort = Cohort.model_validate_json(row.cohort)
        period = row.period
        if body.decision is Decision.NARROW:
            variables = _narrow_variables(variables, body.variables)
            cohort = _narrow_cohort(cohort, body.cohort, definitions)
            period = _narrow_period(period, body.period, definitions)
        row.granted_variables = _dump(variables)
        row.granted_cohort = cohort.model_dump_json(exclude_defaults=True)
        row.granted_period = period
        row.expires_at = expires
        row.decided_by = actor.id
        state = State.APPROVED if body.decision is Decision.APPROVE else State.NARROWED
        _move(session, row, state, actor, body.reason)
        return view(session, row)


def revoke(database: Database, actor: Actor, request_id: str, reason: str) -> dict[str, Any]:
    """Withdraw a live grant: extraction and downloads stop at once."""
    if not actor.steward:
        raise Forbidden("only a data steward (admin) revokes a grant")
    with database.session() as session:
        row = _load(session, request_id)
        _expire_if_due(session, row)
        if not State(row.state).granted:
            raise Conflict(f"request is {row.state}; only a live grant can be revoked")
        _move(session, row, State.REVOKED, actor, reason)
        return view(session, row)


def read(database: Database, actor: Actor, request_id: str) -> dict[str, Any]:
    """One request with its history, for its researcher or a steward."""
    with database.session() as session:
        row = _visible(session, actor, request_id)
        _expire_if_due(session, row)
        return view(session, row)


def listing(database: Database, actor: Actor, state: str | None = None) -> list[dict[str, Any]]:
    """The caller's requests (a steward: everyone's), newest first."""
    if actor.role not in (RESEARCHER, STEWARD):
        raise Forbidden(f"role {actor.role} has no access to data requests")
    with database.session() as session:
        query = select(ResearchRequest).order_by(ResearchRequest.created_at.desc())
        if not actor.steward:
            query = query.where(ResearchRequest.researcher == actor.id)
        rows = list(session.scalars(query))
        for row in rows:
            _expire_if_due(session, row)
        return [view(session, r, history=False) for r in rows if state in (None, r.state)]


@dataclass(frozen=True)
class Grant:
    """What an extraction of a live grant may produce."""

    request_id: str
    researcher: str
    period: str
    cohort: Cohort
    variables: list[str]
    expires_at: datetime
    state: State
    project: str
    purpose: str
    ethics_approval: str


def live_grant(database: Database, actor: Actor | None, request_id: str) -> Grant:
    """The live grant of a request; Forbidden when it was rejected, revoked, expired or never
    decided. ``actor`` None is the extraction worker (no visibility check)."""
    with database.session() as session:
        row = _load(session, request_id) if actor is None else _visible(session, actor, request_id)
        _expire_if_due(session, row)
        state = State(row.state)
    if not state.granted or row.expires_at is None:
        raise Forbidden(f"request {request_id} is {state.value}: no live grant")
    return Grant(
        request_id=row.id,
        researcher=row.researcher,
        period=row.granted_period or row.period,
        cohort=Cohort.model_validate_json(row.granted_cohort or row.cohort),
        variables=list(orjson.loads(row.granted_variables or row.variables)),
        expires_at=_aware(row.expires_at),
        state=state,
        project=row.project,
        purpose=row.purpose,
        ethics_approval=row.ethics_approval,
    )


def view(session: Session, row: ResearchRequest, *, history: bool = True) -> dict[str, Any]:
    """JSON form of a request (both sides see the same fields)."""
    out: dict[str, Any] = {
        "id": row.id,
        "state": row.state,
        "researcher": row.researcher,
        "project": row.project,
        "purpose": row.purpose,
        "ethicsApproval": row.ethics_approval,
        "period": row.period,
        "cohort": orjson.loads(row.cohort),
        "variables": orjson.loads(row.variables),
        "createdAt": _aware(row.created_at).isoformat(),
        "updatedAt": _aware(row.updated_at).isoformat(),
    }
    if row.granted_variables is not None:
        out["grant"] = {
            "period": row.granted_period,
            "cohort": orjson.loads(row.granted_cohort or "{}"),
            "variables": orjson.loads(row.granted_variables),
            "expiresAt": _aware(row.expires_at).isoformat() if row.expires_at else None,
            "decidedBy": row.decided_by,
        }
    if row.reason:
        out["reason"] = row.reason
    if history:
        transitions = session.scalars(
            select(ResearchTransition)
            .where(ResearchTransition.request_id == row.id)
            .order_by(ResearchTransition.id)
        )
        out["transitions"] = [
            {
                "from": t.from_state,
                "to": t.to_state,
                "actor": t.actor,
                "role": t.actor_role,
                "reason": t.reason,
                "at": _aware(t.at).isoformat(),
            }
            for t in transitions
        ]
    return out


# -- internals


def _load(session: Session, request_id: str) -> ResearchRequest:
    row = session.get(ResearchRequest, request_id)
    if row is None:
        raise NotFound(f"no data request {request_id}")
    return row


def _visible(session: Session, actor: Actor, request_id: str) -> ResearchRequest:
    row = session.get(ResearchRequest, request_id)
    # Another researcher's request is answered exactly like a missing one.
    if row is None or not (actor.steward or row.researcher == actor.id):
        raise NotFound(f"no data request {request_id}")
    return row


def _transition(
    session: Session,
    row: ResearchRequest,
    before: State | None,
    after: State,
    actor: Actor,
    reason: str | None,
) -> None:
    session.add(
        ResearchTransition(
            request_id=row.id,
            from_state=before.value if before else None,
            to_state=after.value,
            actor=actor.id,
            actor_role=actor.role,
            reason=reason,
            at=_now(),
        )
    )


def _move(
    session: Session, row: ResearchRequest, state: State, actor: Actor, reason: str | None
) -> None:
    before = State(row.state)
    row.state = state.value
    row.reason = reason
    row.updated_at = _now()
    _transition(session, row, before, state, actor, reason)


def _expire_if_due(session: Session, row: ResearchRequest) -> None:
    if State(row.state).granted and row.expires_at and _aware(row.expires_at) <= _now():
        _move(session, row, State.EXPIRED, Actor(SYSTEM, SYSTEM), "the grant reached its expiry")


def _expiry(settings: Settings, asked: datetime | None, now: datetime) -> datetime:
    latest = now + timedelta(days=settings.research_grant_max_days)
    if asked is None:
        return now + timedelta(days=settings.research_grant_days)
    asked = _aware(asked)
    if asked <= now or asked > latest:
        raise InvalidInput(
            "expires must lie in the future and within the maximum grant",
            issues=[
                Issue(
                    "expires",
                    "grant-window",
                    f"between now and {settings.research_grant_max_days} days from now",
                )
            ],
        )
    return asked


def _narrow_variables(asked: list[str], narrowed: list[str] | None) -> list[str]:
    if narrowed is None:
        return asked
    extra = sorted(set(narrowed) - set(asked))
    if extra or not narrowed:
        raise InvalidInput(
            "narrowed variables must be a non-empty subset of those requested",
            issues=[Issue("variables", "subset-of-request", f"not requested: {', '.join(extra)}")],
        )
    return sorted(set(narrowed))


def _narrow_cohort(asked: Cohort, narrowed: Cohort | None, definitions: Definitions) -> Cohort:
    if narrowed is None:
        return asked
    check_cohort(narrowed, definitions, "cohort")
    keeps_indicator = asked.indicator is None or (
        narrowed.indicator == asked.indicator and narrowed.population == asked.population
    )
    keeps_criteria = all(c in narrowed.criteria for c in asked.criteria)
    keeps_orgs = not asked.orgs or (bool(narrowed.orgs) and set(narrowed.orgs) <= set(asked.orgs))
    if not (keeps_indicator and keeps_criteria and keeps_orgs):
        raise InvalidInput(
            "a narrowed cohort must keep every requested criterion and hospital limit",
            issues=[
                Issue("cohort", "subset-of-request", "it may only add criteria or drop hospitals")
            ],
        )
    return narrowed


def _narrow_period(asked: str, narrowed: str | None, definitions: Definitions) -> str:
    if narrowed is None:
        return asked
    tz = definitions.rules.tz
    outer, inner = parse_period(asked, tz), parse_period(narrowed, tz)
    if inner.start < outer.start or inner.end > outer.end:
        raise InvalidInput(
            f"period {inner.label} is not within the requested {outer.label}",
            issues=[Issue("period", "subset-of-request", "must lie within the requested period")],
        )
    return inner.label
