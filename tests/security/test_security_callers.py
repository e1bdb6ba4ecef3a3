"""One caller check for every door: institutions never admitted or disabled are refused everywhere."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from smart_kit import SystemClient, admitted_org, key_pair, random_org, register, token_form
from sqlalchemy import delete
from typer.testing import CliRunner

from facade.db import Database
from facade.errors import Forbidden, InvalidInput, NotAuthenticated
from facade.native.tables import NativeOrg
from facade.security.callers import CallerCheck
from facade.security.clients import ClientRegistry
from facade.security.institutions import InstitutionRegistry, InstitutionStatus
from facade.services import services_of
from facade.settings import Settings, get_settings


def _token(
    client: TestClient, settings: Settings, system: SystemClient, scope: str
) -> httpx.Response:
    return client.post(
        "/auth/token", data=token_form(system, f"{settings.public_base_url}/auth/token", scope)
    )


def _forget(database: Database, org: str) -> None:
    """The registry loses an institution (as if it had never been admitted)."""
    with database.session() as session:
        session.execute(delete(NativeOrg).where(NativeOrg.org_code == org))


def test_hospital_clients_are_registered_only_for_active_admitted_institutions(
    database: Database,
) -> None:
    registry = ClientRegistry(database)
    jwks = {"keys": [key_pair("ES384")[1]]}
    disabled = admitted_org(database)
    InstitutionRegistry(database).set_status(disabled, active=False)
    for org, needle in ((random_org(), "not admitted"), (disabled, "disabled")):
        with pytest.raises(InvalidInput) as refused:
            registry.register(
                name="H", role="hospital", org_code=org, jwks=jwks, scopes="system/*.rs"
            )
        (issue,) = refused.value.issues
        assert (issue.location, issue.rule) == ("org", "admitted-institution")
        assert org in issue.message and needle in issue.message
    assert registry.list() == []


def test_cli_client_register_refuses_an_unknown_institution(
    settings: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facade.cli.main import app

    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    get_settings.cache_clear()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(orjson.dumps({"keys": [key_pair("ES384")[1]]}))
    org = random_org()
    try:
        result = CliRunner().invoke(
            app,
            [
                "client", "register", "--name", "H", "--role", "hospital", "--org", org,
                "--jwks", str(jwks_file), "--scope", "system/*.rs", "--json",
            ],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"institution {org} is not admitted" in orjson.loads(result.stdout)["error"]


@pytest.mark.parametrize("how", ["disabled", "never admitted"])
def test_fhir_door_refuses_tokens_and_requests_of_an_institution_that_may_not_report(
    client: TestClient, database: Database, settings: Settings, how: str
) -> None:
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    token = _token(client, settings, hospital, "system/Patient.rs").json()["access_token"]
    institutions = services_of(client.app).institutions  # type: ignore[arg-type]
    if how == "disabled":
        institutions.set_status(org, active=False)
    else:
        _forget(database, org)
        institutions.invalidate(org)
    refused = _token(client, settings, hospital, "system/Patient.rs")
    assert refused.status_code == 401
    body = refused.json()
    assert body["error"] == "invalid_client" and org in body["error_description"]
    request = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
    assert request.status_code == 403
    (issue,) = request.json()["issue"]
    assert issue["code"] == "forbidden" and org in issue["details"]["text"]


def test_other_processes_see_a_change_within_the_cache_lifetime(database: Database) -> None:
    org = admitted_org(database)
    now = [0.0]
    running = InstitutionRegistry(database, ttl_seconds=5, clock=lambda: now[0])
    assert running.status(org) is InstitutionStatus.ACTIVE
    InstitutionRegistry(database).set_status(org, active=False)  # e.g. `vte-facade org disable`
    now[0] = 4.9
    assert running.status(org) is InstitutionStatus.ACTIVE  # still cached
    now[0] = 5.1
    assert running.status(org) is InstitutionStatus.DISABLED
    running.set_status(org, active=True)  # a change in this process invalidates at once
    assert running.status(org) is InstitutionStatus.ACTIVE
    assert running.status(random_org()) is InstitutionStatus.NOT_ADMITTED


def test_scopes_are_capped_by_the_role_at_token_issue(
    client: TestClient, database: Database, settings: Settings
) -> None:
    hospital = register(database, "hospital", org=admitted_org(database), scopes="system/*.rs")
    granted = _token(client, settings, hospital, "system/AuditEvent.rs system/Patient.rs")
    assert granted.json()["scope"] == "system/Patient.rs"
    refused = _token(client, settings, hospital, "system/AuditEvent.rs")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_cached_callers_are_refused_within_the_documented_bounds(
    client: TestClient, database: Database, settings: Settings
) -> None:
    """A verified token's caller is reused, but a client or institution disabled elsewhere (another
    process: its own registries) is refused within ``caller_cache_seconds`` /
    ``institution_cache_seconds``, and one disabled through this process at once."""
    bound = 0.4
    services = services_of(client.app)  # type: ignore[arg-type]
    quick = services.settings.model_copy(
        update={"caller_cache_seconds": bound, "institution_cache_seconds": bound}
    )
    callers = CallerCheck(
        quick,
        database,
        InstitutionRegistry(database, ttl_seconds=bound),
        services.tokens,
    )
    orgs = [admitted_org(database) for _ in range(2)]
    tokens = []
    for org in orgs:
        hospital = register(database, "hospital", org=org, scopes="system/*.rs")
        tokens.append(
            _token(client, settings, hospital, "system/Patient.rs").json()["access_token"]
        )
    first, second = (callers.principal(token) for token in tokens)
    assert callers.cached_principal(tokens[0]) is first  # reused: no database round trip
    ClientRegistry(database).disable(first.client_id)  # `vte-facade client disable`
    InstitutionRegistry(database).set_status(orgs[1], active=False)  # `vte-facade org disable`
    assert callers.principal(tokens[0]) is first  # both still within the bound
    assert callers.principal(tokens[1]) is second
    time.sleep(bound + 0.05)
    with pytest.raises(NotAuthenticated):
        callers.principal(tokens[0])
    with pytest.raises(Forbidden, match=orgs[1]):
        callers.principal(tokens[1])
    # A change made through this process's registries drops the cached callers at once.
    third = admitted_org(database)
    hospital = register(database, "hospital", org=third, scopes="system/*.rs")
    token = _token(client, settings, hospital, "system/Patient.rs").json()["access_token"]
    assert callers.principal(token) is callers.cached_principal(token)
    callers.institutions.set_status(third, active=False)
    assert callers.cached_principal(token) is None
    with pytest.raises(Forbidden):
        callers.principal(token)
