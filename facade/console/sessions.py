"""Console sessions: a random cookie token (only its hash stored), idle and absolute time-outs, CSRF.

Every change of privilege (password accepted, second factor accepted, password changed) ends
the old session and starts a new one with a new token, so a token seen before sign-in is
worthless after it (session fixation). Each session has its own CSRF token, which every form
carries and every POST must send back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update

from facade.console.tables import ConsoleSession, ConsoleUser
from facade.console.users import ConsoleUserInfo, user_info
from facade.db import Database
from facade.db.tables import utcnow
from facade.settings import Settings

STAGES = ("second-factor", "password-change", "active")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request and the state of their session."""

    user: ConsoleUserInfo
    stage: str
    csrf_token: str
    expires_at: datetime

    @property
    def active(self) -> bool:
        """Whether sign-in is complete (second factor and any required password change done)."""
        return self.stage == "active"


class SessionStore:
    """Sessions in the facade database, shared by every worker."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    @property
    def idle(self) -> timedelta:
        """How long a session may go unused."""
        return timedelta(minutes=self.settings.console_idle_minutes)

    def start(self, user_id: int, stage: str, remote_addr: str | None = None) -> str:
        """A new session; returns the token for the cookie (never stored as such)."""
        if stage not in STAGES:
            raise ValueError(f"unknown session stage {stage!r}")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.database.session() as session:
            session.add(
                ConsoleSession(
                    id=_digest(token),
                    user_id=user_id,
                    stage=stage,
                    csrf_token=secrets.token_urlsafe(32),
                    remote_addr=(remote_addr or "")[:64] or None,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.settings.console_session_hours),
                )
            )
        return token

    def lookup(self, token: str | None, now: datetime | None = None) -> SignedIn | None:
        """The live session of a cookie token (its idle clock restarts); None when there is none."""
        if not token:
            return None
        now = now or utcnow()
        with self.database.session() as session:
            found = session.execute(
                select(ConsoleSession, ConsoleUser)
                .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
                .where(ConsoleSession.id == _digest(token))
            ).first()
            if found is None:
                return None
            row, user = found
            alive = (
                row.ended_at is None
                and user.status == "active"
                and _aware(row.expires_at) > now
                and _aware(row.last_seen_at) + self.idle > now
            )
            if not alive:
                if row.ended_at is None:
                    row.ended_at = now
                return None
            row.last_seen_at = now
            return SignedIn(user_info(user), row.stage, row.csrf_token, _aware(row.expires_at))

    def advance(self, token: str, stage: str, remote_addr: str | None = None) -> str | None:
        """End this session and start the next stage's (a new token); None if it is not live."""
        current = self.lookup(token)
        if current is None:
            return None
        self.end(token)
        return self.start(current.user.id, stage, remote_addr)

    def end(self, token: str | None) -> None:
        """Sign out: the session can never be used again."""
        if not token:
            return
        with self.database.session() as session:
            session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id == _digest(token), ConsoleSession.ended_at.is_(None))
                .values(ended_at=utcnow())
            )

    def purge(self, now: datetime | None = None) -> int:
        """Delete sessions that ended or expired more than a day ago; returns how many."""
        cutoff = (now or utcnow()) - timedelta(days=1)
        with self.database.session() as session:
            result = session.execute(
                delete(ConsoleSession).where(
                    or_(ConsoleSession.ended_at < cutoff, ConsoleSession.expires_at < cutoff)
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)
