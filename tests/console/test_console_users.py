"""Console accounts: Argon2 hashes, TOTP once per code, lock-out, disable, reset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from facade.console.sessions import SessionStore
from facade.console.tables import ConsoleUser
from facade.console.users import UserStore, check_password_rule
from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import Conflict, InvalidInput, NotAuthenticated
from facade.native import orgs
from facade.settings import Settings, ensure_secrets

ORG = "12320100MA1XXXXX3K"  # shape only; the registry row below makes it known


@pytest.fixture
def store(settings: Settings, database: Database) -> Iterator[UserStore]:
    current = ensure_secrets(settings)
    code = "91320100MA1W5X4Y0L"
    with database.session() as session:
        orgs.add_org(session, code, "测试医院", grade="31", fhir_id="x")
    yield UserStore(current, database)


def test_admins_get_a_second_factor_and_a_hash_never_the_password(
    store: UserStore, database: Database
) -> None:
    enrolment = store.add("alice", role="admin")
    assert enrolment.totp_secret and enrolment.user.second_factor
    assert enrolment.user.must_change_password
    with database.session() as session:
        row = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "alice"))
        assert row is not None
        assert row.password_hash.startswith("$argon2id$")
        assert enrolment.password not in row.password_hash
        assert enrolment.totp_secret.encode() not in (row.totp_sealed or b"")
    plain = store.add("bob", role="qc")
    assert plain.totp_secret is None and not plain.user.second_factor


def test_a_password_then_a_code_that_works_only_once(store: UserStore) -> None:
    enrolment = store.add("alice", role="auditor")
    user = store.check_password("alice", enrolment.password)
    assert user.second_factor
    now = utcnow()
    code = pyotp.TOTP(enrolment.totp_secret or "").at(now)
    assert store.check_code(user.id, code, now).username == "alice"
    with pytest.raises(NotAuthenticated):
        store.check_code(user.id, code, now)  # replayed
    with pytest.raises(NotAuthenticated):
        store.check_code(user.id, "000000" if code != "000000" else "111111", now)


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    store: UserStore, settings: Settings
) -> None:
    enrolment = store.add("carol", role="qc")
    for _ in range(settings.console_max_failed_logins):
        with pytest.raises(NotAuthenticated):
            store.check_password("carol", "wrong password")
    with pytest.raises(NotAuthenticated):
        store.check_password("carol", enrolment.password)
    later = utcnow() + timedelta(minutes=settings.console_lockout_minutes, seconds=1)
    assert store.check_password("carol", enrolment.password, later).username == "carol"


def test_disabling_ends_sessions_and_reset_issues_a_new_password(
    store: UserStore, settings: Settings, database: Database
) -> None:
    enrolment = store.add("dave", role="qc")
    sessions = SessionStore(settings, database)
    token = sessions.start(enrolment.user.id, "active")
    assert sessions.lookup(token) is not None
    store.set_status("dave", active=False)
    assert sessions.lookup(token) is None
    with pytest.raises(NotAuthenticated):
        store.check_password("dave", enrolment.password)
    store.set_status("dave", active=True)
    fresh = store.reset("dave")
    with pytest.raises(NotAuthenticated):
        store.check_password("dave", enrolment.password)
    assert store.check_password("dave", fresh.password).must_change_password


def test_accounts_are_refused_with_the_field_at_fault(store: UserStore) -> None:
    with pytest.raises(InvalidInput) as missing:
        store.add("erin", role="hospital")
    assert [i.location for i in missing.value.issues] == ["org"]
    with pytest.raises(InvalidInput) as unknown:
        store.add("erin", role="hospital", org_code=ORG)
    assert unknown.value.issues[0].rule == "registered"
    with pytest.raises(InvalidInput) as bad:
        store.add("Erin!", role="qc")
    assert bad.value.issues[0].location == "username"
    store.add("erin", role="qc")
    with pytest.raises(Conflict):
        store.add("erin", role="qc")


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short1A!", False), ("alllowercaseletters", False), ("lower-and-digits-123", True)],
)
def test_password_rule(password: str, ok: bool) -> None:
    if ok:
        check_password_rule(password)
    else:
        with pytest.raises(InvalidInput):
            check_password_rule(password)


def test_sessions_expire_when_idle(
    store: UserStore, settings: Settings, database: Database
) -> None:
    user = store.add("fay", role="qc").user
    sessions = SessionStore(settings, database)
    token = sessions.start(user.id, "active")
    soon = utcnow() + timedelta(minutes=settings.console_idle_minutes - 1)
    assert sessions.lookup(token, soon) is not None  # use restarts the idle clock
    later = soon + timedelta(minutes=settings.console_idle_minutes + 1)
    assert sessions.lookup(token, later) is None
    assert sessions.lookup(token) is None  # ended for good, not just stale
