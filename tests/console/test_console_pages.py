"""The console over HTTP in-process: sign-in, CSRF, roles, time-outs, audit, languages, assets."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyotp
import pytest
from console_kit import PASSWORD, account, csrf_of, sign_in_http
from fastapi.testclient import TestClient
from sqlalchemy import select

from facade.app import create_app
from facade.audit.tables import AuditRecord
from facade.console import vendor
from facade.console.i18n import messages
from facade.console.services import NavEntry, console_services
from facade.console.users import UserStore
from facade.db import Database
from facade.native import orgs
from facade.native.tables import NativeOrg
from facade.settings import Settings, ensure_secrets

ORG = "91320100MA1W5X4Y0L"


@pytest.fixture
def web(settings: Settings, database: Database) -> Iterator[tuple[TestClient, UserStore]]:
    current = ensure_secrets(settings.model_copy(update={"indicator_refresh_times": []}))
    with database.session() as session:
        orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="x")
    app = create_app(current, database=database, record_processor=None)
    with TestClient(app, follow_redirects=False) as client:
        yield client, UserStore(current, database)


def test_admin_signs_in_with_password_totp_and_a_forced_password_change(
    web: tuple[TestClient, UserStore],
) -> None:
    client, store = web
    enrolment = store.add("root", role="admin")
    assert client.get("/console/registry").headers["location"].startswith("/console/login?next=")
    form = client.get("/console/login")
    step = client.post(
        "/console/login",
        data={"username": "root", "password": enrolment.password, "csrf_token": csrf_of(form.text)},
    )
    assert step.headers["location"].startswith("/console/login/totp")
    cookie = step.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert client.get("/console/registry").headers["location"] == "/console/login/totp"
    code = client.get("/console/login/totp")
    wrong = client.post(
        "/console/login/totp", data={"code": "12345x", "csrf_token": csrf_of(code.text)}
    )
    assert wrong.status_code == 401
    step = client.post(
        "/console/login/totp",
        data={
            "code": pyotp.TOTP(enrolment.totp_secret or "").now(),
            "csrf_token": csrf_of(code.text),
        },
    )
    assert step.headers["location"] == "/console/password"
    assert client.get("/console/registry").headers["location"] == "/console/password"
    page = client.get("/console/password")
    step = client.post(
        "/console/password",
        data={
            "current": enrolment.password,
            "new": PASSWORD,
            "repeat": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert step.status_code == 303
    registry = client.get("/console/registry")
    assert registry.status_code == 200 and ORG in registry.text
    assert registry.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in registry.headers["content-security-policy"]


def test_forms_without_their_csrf_token_are_refused(
    web: tuple[TestClient, UserStore], database: Database
) -> None:
    client, store = web
    anonymous = client.post("/console/login", data={"username": "x", "password": "y"})
    assert anonymous.status_code == 403
    admin = account(store, "root", "admin")
    sign_in_http(client, admin)
    page = client.get("/console/registry")
    url = f"/console/registry/orgs/{ORG}/status"
    for data in ({"active": "no"}, {"active": "no", "csrf_token": "guess"}):
        refused = client.post(url, data=data)
        assert refused.status_code == 403 and 'data-error="403"' in refused.text
    with database.session() as session:
        assert session.scalar(select(NativeOrg.status).where(NativeOrg.org_code == ORG)) == "active"
    logout = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert logout.status_code == 303
    assert client.get("/console/registry").status_code == 303  # the old session is gone


def test_each_role_reaches_only_its_pages_and_every_view_is_audited(
    web: tuple[TestClient, UserStore], database: Database
) -> None:
    client, store = web
    hospital = account(store, "ward", "hospital", org=ORG)
    sign_in_http(client, hospital)
    assert client.get("/console/").headers["location"] == "/console/indicators"
    for path in (
        "/console/registry",
        "/console/audit",
        "/console/submissions?org=91320100MA1W5X4Y1A",
    ):
        assert client.get(path).status_code == 403, path
    own = client.get("/console/submissions")
    assert own.status_code == 200 and ORG in own.text
    with database.session() as session:
        rows = session.scalars(
            select(AuditRecord).where(
                AuditRecord.door == "console", AuditRecord.client_id == "ward"
            )
        ).all()
    outcomes = {(orjson.loads(r.body)["outcomeDesc"][:3], r.outcome) for r in rows}
    assert ("403", "4") in outcomes and ("200", "0") in outcomes
    login = next(r for r in rows if orjson.loads(r.body)["subtype"][0]["code"] == "110122")
    agent = orjson.loads(login.body)["agent"][0]
    assert agent["type"]["coding"][0]["code"] == "humanuser" and agent["altId"] == "ward"


def test_languages_share_every_text_and_english_can_be_chosen(
    web: tuple[TestClient, UserStore],
) -> None:
    texts = messages()
    assert set(texts["zh-CN"]) == set(texts["en"])
    client, store = web
    sign_in_http(client, account(store, "ward", "hospital", org=ORG))
    assert "数据上报" in client.get("/console/submissions").text
    switch = client.get("/console/language?set=en&next=/console/submissions")
    assert switch.headers["location"] == "/console/submissions"
    assert ">Submissions<" in client.get("/console/submissions").text
    assert (
        client.get("/console/language?set=en&next=//evil.example").headers["location"]
        == "/console/"
    )


def test_pages_join_the_bar_where_registered(web: tuple[TestClient, UserStore]) -> None:
    client, store = web
    sign_in_http(client, account(store, "ward", "hospital", org=ORG))

    def bar() -> list[str]:
        return re.findall(r'data-nav="([a-z-]+)"', client.get("/console/submissions").text)

    assert bar() == ["indicators", "submissions", "dq"]  # data quality: added by install_console
    services = console_services(client.app)  # type: ignore[arg-type]
    extra = NavEntry("extra", "/console/extra", "nav.indicators", frozenset({"hospital", "qc"}))
    services.add_page(extra, before="dq")
    try:
        assert bar() == ["indicators", "submissions", "extra", "dq"]
    finally:
        services.pages.remove(extra)


def test_the_chart_library_is_served_only_with_its_pinned_digest(
    web: tuple[TestClient, UserStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = web
    served = client.get("/console/vendor/echarts.min.js")
    assert served.status_code == 200
    assert (
        vendor.digest(vendor.VENDOR_DIR / "echarts.min.js")
        == vendor.manifest()["echarts.min.js"].sha256
    )
    tampered = tmp_path / "vendor"
    shutil.copytree(vendor.VENDOR_DIR, tampered)
    (tampered / "echarts.min.js").write_bytes(served.content + b"\n/* injected */")
    monkeypatch.setattr(vendor, "VENDOR_DIR", tampered)
    refused = client.get("/console/vendor/echarts.min.js")
    assert refused.status_code == 503 and "SHA-256 mismatch" in refused.text
    assert client.get("/console/vendor/other.js").status_code == 404
