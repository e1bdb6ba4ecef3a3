"""Client registration: what JWKS, roles, organisations and scopes are accepted; the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from smart_kit import admitted_org, key_pair
from typer.testing import CliRunner

from facade.db import Database
from facade.errors import InvalidInput, NotFound
from facade.security.clients import ClientRegistry
from facade.settings import Settings, get_settings


def _jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def _refused(database: Database, **kwargs: Any) -> str:
    defaults: dict[str, Any] = {
        "name": "x",
        "role": "qc",
        "jwks": _jwks(key_pair("ES384")[1]),
        "scopes": "system/*.rs",
    }
    with pytest.raises(InvalidInput) as caught:
        ClientRegistry(database).register(**(defaults | kwargs))
    return " | ".join(f"{i.location}: {i.message}" for i in caught.value.issues)


def test_register_list_disable(database: Database) -> None:
    registry = ClientRegistry(database)
    org = admitted_org(database)
    info = registry.register(
        name="H1",
        role="hospital",
        org_code=org,
        jwks=_jwks(key_pair("RS384")[1]),
        scopes=["system/*.crus"],
    )
    assert info.client_id.startswith("hospital-")
    assert [c.client_id for c in registry.list()] == [info.client_id]
    assert registry.disable(info.client_id).enabled is False
    assert registry.get(info.client_id).enabled is False  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        registry.disable("missing")


def test_private_keys_are_refused(database: Database) -> None:
    private, _ = key_pair("ES384")
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(private, as_dict=True) | {"kid": "p"}
    assert "private key material" in _refused(database, jwks=_jwks(jwk))


def test_weak_or_wrong_curve_keys_are_refused(database: Database) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505 - the point
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(small, as_dict=True) | {"kid": "s"}
    assert "2048" in _refused(database, jwks=_jwks(jwk))
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(p256, as_dict=True) | {"kid": "c"}
    assert "P-384" in _refused(database, jwks=_jwks(jwk))


def test_jwks_shape_rules(database: Database) -> None:
    _, good = key_pair("ES384")
    assert "non-empty" in _refused(database, jwks={"keys": []})
    assert "kid" in _refused(database, jwks=_jwks({k: v for k, v in good.items() if k != "kid"}))
    assert "twice" in _refused(database, jwks=_jwks(good, good))
    assert "alg" in _refused(database, jwks=_jwks(good | {"alg": "RS256"}))


def test_roles_orgs_and_scope_ceilings(database: Database) -> None:
    assert "organisation" in _refused(database, role="hospital", scopes="system/*.rs")
    assert "unified social credit" in _refused(
        database, role="hospital", org_code="short", scopes="system/*.rs"
    )
    assert "role may not" in _refused(database, role="researcher", scopes="system/Patient.cruds")
    assert "role must be one of" in _refused(database, role="superuser")
    assert "SMART system scope" in _refused(database, scopes="patient/*.read")


@pytest.fixture
def cli_env(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_cli_register_list_disable(cli_env: Settings, database: Database, tmp_path: Path) -> None:
    from facade.cli.main import app

    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(orjson.dumps(_jwks(key_pair("RS384")[1])))
    runner = CliRunner()
    org = admitted_org(database)
    result = runner.invoke(
        app,
        [
            "client",
            "register",
            "--name",
            "XX医院",
            "--role",
            "hospital",
            "--org",
            org,
            "--jwks",
            str(jwks_file),
            "--scope",
            "system/*.crus",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    registered = orjson.loads(result.output)
    assert registered["orgCode"] == org and registered["keyIds"] == ["k1"]
    # camelCase like every other --json output
    assert sorted(registered) == [
        "clientId",
        "createdAt",
        "enabled",
        "keyIds",
        "name",
        "orgCode",
        "role",
        "scopes",
    ]
    listed = orjson.loads(runner.invoke(app, ["client", "list", "--json"]).output)
    assert [c["clientId"] for c in listed] == [registered["clientId"]]
    disabled = runner.invoke(app, ["client", "disable", registered["clientId"], "--json"])
    assert orjson.loads(disabled.output)["enabled"] is False
    refused = runner.invoke(
        app,
        [
            "client",
            "register",
            "--name",
            "R",
            "--role",
            "researcher",
            "--jwks",
            str(jwks_file),
            "--scope",
            "system/*.cruds",
            "--json",
        ],
    )
    assert refused.exit_code == 1
    assert "may not" in orjson.loads(refused.output)["error"]
