"""The token endpoint: SMART client assertions (RS384/ES384) in, short-lived access tokens out."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from smart_kit import admitted_org, key_pair, register, token_form

from facade.db import Database
from facade.settings import Settings


def _token_url(settings: Settings) -> str:
    return f"{settings.public_base_url}/auth/token"


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_assertion_gives_token_with_role_org_and_scopes(
    client: TestClient, database: Database, settings: Settings, alg: str
) -> None:
    org = admitted_org(database)
    system = register(database, "hospital", org=org, scopes="system/*.crus", alg=alg)
    response = client.post(
        "/auth/token", data=token_form(system, _token_url(settings), "system/Patient.rs")
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "system/Patient.rs"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == system.client_id
    assert claims["role"] == "hospital"
    assert claims["org"] == org
    assert claims["aud"] == f"{settings.public_base_url}/fhir"
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds


def test_requested_scopes_are_narrowed_to_registered_ones(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "researcher", scopes="system/Observation.rs system/Patient.r")
    form = token_form(system, _token_url(settings), "system/*.rs system/Patient.rs")
    body = client.post("/auth/token", data=form).json()
    # a wildcard is granted only against a registered wildcard; Patient.rs narrows to what is held
    assert body["scope"] == "system/Patient.r"


def test_scope_nobody_registered_is_refused(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "auditor", scopes="system/AuditEvent.rs")
    response = client.post(
        "/auth/token", data=token_form(system, _token_url(settings), "system/Patient.rs")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("expired", {"exp_in": -120}, "expired"),
    ("wrong audience", {"aud": "https://elsewhere.example/auth/token"}, "aud"),
    ("too long lived", {"exp_in": 3600}, "five minutes"),
    ("sub differs", {"sub": "someone-else"}, "sub"),
    ("unknown kid", {"headers": {"kid": "nope"}}, "kid"),
]


@pytest.mark.parametrize(("case", "overrides", "needle"), REFUSALS, ids=[c[0] for c in REFUSALS])
def test_bad_assertions_are_refused_401(
    client: TestClient,
    database: Database,
    settings: Settings,
    case: str,
    overrides: dict[str, Any],
    needle: str,
) -> None:
    system = register(database, "qc")
    response = client.post(
        "/auth/token", data=token_form(system, _token_url(settings), "system/*.rs", **overrides)
    )
    assert response.status_code == 401, case
    body = response.json()
    assert body["error"] == "invalid_client"
    assert needle in body["error_description"]


def test_tampered_assertion_is_refused(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "qc", alg="RS384")
    assertion = system.assertion(_token_url(settings))
    head, _payload, signature = assertion.split(".")
    forged = jwt.encode(
        {
            "iss": system.client_id,
            "sub": system.client_id,
            "aud": _token_url(settings),
            "exp": int(time.time()) + 200,
            "jti": "x",
        },
        "k" * 32,
        algorithm="HS256",
    )
    tampered = ".".join([head, forged.split(".")[1], signature])
    form = token_form(system, _token_url(settings), "system/*.rs") | {"client_assertion": tampered}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 401
    assert "signature" in response.json()["error_description"]


def test_signed_with_another_key_is_refused(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "qc", alg="ES384")
    other, _ = key_pair("ES384", kid="other")
    response = client.post(
        "/auth/token", data=token_form(system, _token_url(settings), "system/*.rs", key=other)
    )
    assert response.status_code == 401


def test_hs256_or_none_alg_is_refused(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "qc")
    for alg, key in (("HS256", "secret-secret-secret-secret-1234"), ("none", None)):
        response = client.post(
            "/auth/token",
            data=token_form(system, _token_url(settings), "system/*.rs", alg=alg, key=key),
        )
        assert response.status_code == 401, alg


def test_replayed_jti_is_refused(
    client: TestClient, database: Database, settings: Settings
) -> None:
    system = register(database, "qc")
    form = token_form(system, _token_url(settings), "system/*.rs", jti="once-only")
    assert client.post("/auth/token", data=form).status_code == 200
    replay = client.post("/auth/token", data=form)
    assert replay.status_code == 401
    assert "replay" in replay.json()["error_description"]
    # the same jti from a different client is a different assertion
    other = register(database, "qc")
    assert (
        client.post(
            "/auth/token",
            data=token_form(other, _token_url(settings), "system/*.rs", jti="once-only"),
        ).status_code
        == 200
    )


def test_disabled_client_gets_no_token_and_its_tokens_stop(
    client: TestClient, database: Database, settings: Settings
) -> None:
    from facade.security.clients import ClientRegistry

    system = register(database, "researcher")
    token = client.post(
        "/auth/token", data=token_form(system, _token_url(settings), "system/*.rs")
    ).json()["access_token"]
    ClientRegistry(database).disable(system.client_id)
    assert (
        client.post(
            "/auth/token", data=token_form(system, _token_url(settings), "system/*.rs")
        ).status_code
        == 401
    )
    response = client.get("/fhir/Observation", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:other"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
def test_malformed_token_requests(
    client: TestClient, database: Database, settings: Settings, form: dict[str, str], error: str
) -> None:
    system = register(database, "qc")
    body = token_form(system, _token_url(settings), "system/*.rs") | form
    response = client.post("/auth/token", data=body)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_smart_configuration_is_published(client: TestClient, settings: Settings) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        body = client.get(path).json()
        assert body["token_endpoint"] == _token_url(settings)
        assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
        assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
        assert "client-confidential-asymmetric" in body["capabilities"]
