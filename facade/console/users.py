"""Console accounts: Argon2id passwords, TOTP second factor, lock-out after repeated failures.

Admins and auditors always have a second factor (等保三级 asks two-factor authentication for
administrators); qc and hospital users get one when asked for. A failed password or code counts
towards the lock-out; a locked or disabled account is refused with the same message as a wrong
password, so sign-in never tells a stranger which accounts exist.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facade.console.tables import ConsoleSession, ConsoleUser
from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import Conflict, InvalidInput, Issue, NotAuthenticated, NotFound
from facade.native.orgs import find_org
from facade.native.sealing import SecretBox
from facade.settings import Settings

TOTP_SECRETS = "console/totp-secret/v1"
TOTP_ISSUER = "VTE区域质控平台"
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,63}")
# Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
_HASHER = PasswordHasher()
# A hash to verify against when the account does not exist, so both answers take as long.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class ConsoleRole(StrEnum):
    """What a person does in the console (the same names as the FHIR side's roles)."""

    ADMIN = "admin"  # registry and credentials
    QC = "qc"  # the whole region's indicators and submissions
    HOSPITAL = "hospital"  # its own institution only
    AUDITOR = "auditor"  # the audit trail


SECOND_FACTOR_ROLES = frozenset({ConsoleRole.ADMIN, ConsoleRole.AUDITOR})


@dataclass(frozen=True)
class ConsoleUserInfo:
    """A console account as the pages and the CLI see it (never the hash or the TOTP secret)."""

    id: int
    username: str
    display_name: str
    role: ConsoleRole
    org_code: str | None
    status: str
    second_factor: bool
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form (camelCase, like every other command)."""
        return {
            "username": self.username,
            "displayName": self.display_name,
            "role": self.role.value,
            "orgCode": self.org_code,
            "status": self.status,
            "secondFactor": self.second_factor,
            "mustChangePassword": self.must_change_password,
            "lockedUntil": _iso(self.locked_until),
            "lastLoginAt": _iso(self.last_login_at),
        }


@dataclass(frozen=True)
class Enrolment:
    """What a new or reset account is handed once: a one-time password and the TOTP secret."""

    user: ConsoleUserInfo
    password: str
    totp_secret: str | None
    totp_uri: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``--json``."""
        return {
            **self.user.as_dict(),
            "password": self.password,
            "totpSecret": self.totp_secret,
            "totpUri": self.totp_uri,
        }


def _iso(moment: datetime | None) -> str | None:
    return _aware(moment).isoformat(timespec="seconds") if moment else None


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def user_info(row: ConsoleUser) -> ConsoleUserInfo:
    """The public view of an account row."""
    return ConsoleUserInfo(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=ConsoleRole(row.role),
        org_code=row.org_code,
        status=row.status,
        second_factor=row.totp_sealed is not None,
        must_change_password=row.must_change_password,
        locked_until=_aware(row.locked_until) if row.locked_until else None,
        last_login_at=_aware(row.last_login_at) if row.last_login_at else None,
    )


def check_password_rule(password: str, field: str = "password") -> None:
    """At least 12 characters mixing three of: lower case, upper case, digits, other (等保 complexity)."""
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) < MIN_PASSWORD_LENGTH or classes < 3:
        raise InvalidInput(
            "password too weak",
            issues=[
                Issue(
                    field,
                    "password-complexity",
                    f"at least {MIN_PASSWORD_LENGTH} characters with three of: lower case, "
                    "upper case, digits, other characters",
                )
            ],
        )


def generated_password() -> str:
    """A one-time password for a new or reset account (meets the rule; changed at first sign-in)."""
    while True:
        candidate = secrets.token_urlsafe(14)
        try:
            check_password_rule(candidate)
        except InvalidInput:
            continue
        return candidate


class UserStore:
    """Console accounts in the facade database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.box = SecretBox.for_purpose(settings, TOTP_SECRETS)

    # -- administration (the CLI)

    def add(
        self,
        username: str,
        *,
        role: ConsoleRole | str,
        display_name: str | None = None,
        org_code: str | None = None,
        second_factor: bool = False,
    ) -> Enrolment:
        """Create an account with a one-time password (and a TOTP secret when required or asked)."""
        issues: list[Issue] = []
        try:
            role = ConsoleRole(role)
        except ValueError:
            allowed = ", ".join(r.value for r in ConsoleRole)
            raise InvalidInput(
                "account refused", issues=[Issue("role", "known-role", f"one of {allowed}")]
            ) from None
        if not _USERNAME.fullmatch(username):
            issues.append(
                Issue("username", "pattern", "3-64 of a-z 0-9 . _ -, starting with a letter")
            )
        with self.database.session() as session:
            if role is ConsoleRole.HOSPITAL:
                if not org_code:
                    issues.append(Issue("org", "required", "a hospital user belongs to one --org"))
                elif find_org(session, org_code) is None:
                    issues.append(
                        Issue("org", "registered", f"institution {org_code} is not registered")
                    )
            elif org_code:
                issues.append(
                    Issue("org", "not-allowed", f"role {role.value} is region-wide; omit --org")
                )
            if issues:
                raise InvalidInput("account refused", issues=issues)
            if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)):
                raise Conflict(f"user {username} already exists")
            password = generated_password()
            row = ConsoleUser(
                username=username,
                display_name=(display_name or username).strip()[:200],
                role=role.value,
                org_code=org_code if role is ConsoleRole.HOSPITAL else None,
                password_hash=_HASHER.hash(password),
                must_change_password=True,
                status="active",
                failed_logins=0,
            )
            session.add(row)
            session.flush()
            secret = None
            if second_factor or role in SECOND_FACTOR_ROLES:
                secret = self._new_totp(row)
            return self._enrolment(row, password, secret)

    def reset(self, username: str, *, new_second_factor: bool = False) -> Enrolment:
        """New one-time password, lock-out cleared, sessions ended; a new TOTP secret on request."""
        with self.database.session() as session:
            row = self._row(session, username)
            password = generated_password()
            row.password_hash = _HASHER.hash(password)
            row.must_change_password = True
            row.failed_logins = 0
            row.locked_until = None
            secret = None
            if new_second_factor or (
                row.totp_sealed is None and ConsoleRole(row.role) in SECOND_FACTOR_ROLES
            ):
                secret = self._new_totp(row)
            _end_sessions(session, row.id)
            return self._enrolment(row, password, secret)

    def set_status(self, username: str, *, active: bool) -> ConsoleUserInfo:
        """Disable (every session ends at once) or re-enable an account."""
        with self.database.session() as session:
            row = self._row(session, username)
            row.status = "active" if active else "disabled"
            row.disabled_at = None if active else utcnow()
            if not active:
                _end_sessions(session, row.id)
            session.flush()
            return user_info(row)

    def list(self) -> list[ConsoleUserInfo]:
        """Every account, by username."""
        with self.database.session() as session:
            return [
                user_info(r)
                for r in session.scalars(select(ConsoleUser).order_by(ConsoleUser.username))
            ]

    def get(self, user_id: int) -> ConsoleUserInfo | None:
        """The account with this id."""
        with self.database.session() as session:
            row = session.get(ConsoleUser, user_id)
            return user_info(row) if row else None

    # -- signing in (the pages)

    def check_password(
        self, username: str, password: str, now: datetime | None = None
    ) -> ConsoleUserInfo:
        """The account, if the password is right and the account may sign in; NotAuthenticated otherwise.

        A failure is committed before the error is raised, so the lock-out count survives it.
        """
        now = now or utcnow()
        info: ConsoleUserInfo | None = None
        with self.database.session() as session:
            row = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
            if row is None or not self._may_try(row, now):
                _verify(_DUMMY_HASH, password)
            elif not _verify(row.password_hash, password):
                self._failed(row, now)
            else:
                if _HASHER.check_needs_rehash(row.password_hash):
                    row.password_hash = _HASHER.hash(password)
                if row.totp_sealed is None:
                    self._succeeded(row, now)
                info = user_info(row)
        if info is None:
            raise NotAuthenticated("wrong username or password")
        return info

    def check_code(self, user_id: int, code: str, now: datetime | None = None) -> ConsoleUserInfo:
        """Finish sign-in with a TOTP code (each code works once); NotAuthenticated otherwise."""
        now = now or utcnow()
        info: ConsoleUserInfo | None = None
        with self.database.session() as session:
            row = session.get(ConsoleUser, user_id)
            if row is not None and row.totp_sealed is not None and self._may_try(row, now):
                totp = pyotp.TOTP(self.box.open(row.totp_sealed, _totp_aad(row)).decode("ascii"))
                step = _matching_step(totp, code.strip(), now)
                if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
                    self._failed(row, now)
                else:
                    row.totp_last_step = step
                    self._succeeded(row, now)
                    info = user_info(row)
        if info is None:
            raise NotAuthenticated("wrong or expired code")
        return info

    def change_password(self, user_id: int, current: str, new: str) -> None:
        """Replace the password (the current one must be given); the new one must meet the rule."""
        check_password_rule(new, "newPassword")
        if new == current:
            raise InvalidInput(
                "password unchanged",
                issues=[
                    Issue("newPassword", "different", "choose a password you have not just used")
                ],
            )
        with self.database.session() as session:
            row = session.get(ConsoleUser, user_id)
            if row is None or not _verify(row.password_hash, current):
                raise NotAuthenticated("the current password is wrong")
            row.password_hash = _HASHER.hash(new)
            row.must_change_password = False

    # -- internals

    def _row(self, session: Session, username: str) -> ConsoleUser:
        row = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
        if row is None:
            raise NotFound(f"no user {username}")
        return row

    def _may_try(self, row: ConsoleUser, now: datetime) -> bool:
        if row.status != "active":
            return False
        return row.locked_until is None or _aware(row.locked_until) <= now

    def _failed(self, row: ConsoleUser, now: datetime) -> None:
        row.failed_logins += 1
        if row.failed_logins >= self.settings.console_max_failed_logins:
            row.locked_until = now + timedelta(minutes=self.settings.console_lockout_minutes)
            row.failed_logins = 0

    def _succeeded(self, row: ConsoleUser, now: datetime) -> None:
        row.failed_logins = 0
        row.locked_until = None
        row.last_login_at = now

    def _new_totp(self, row: ConsoleUser) -> str:
        secret = pyotp.random_base32()
        row.totp_sealed = self.box.seal(secret.encode("ascii"), _totp_aad(row))
        row.totp_last_step = None
        return secret

    def _enrolment(self, row: ConsoleUser, password: str, secret: str | None) -> Enrolment:
        uri = (
            pyotp.TOTP(secret).provisioning_uri(name=row.username, issuer_name=TOTP_ISSUER)
            if secret
            else None
        )
        return Enrolment(user_info(row), password, secret, uri)


def _totp_aad(row: ConsoleUser) -> str:
    return f"console-user|{row.id}"


def _matching_step(totp: pyotp.TOTP, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is, allowing one step of clock drift either way."""
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
