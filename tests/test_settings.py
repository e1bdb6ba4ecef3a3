"""Settings: derived defaults, development secrets, and refusal of missing secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from facade.errors import ConfigurationError
from facade.settings import SECRET_FIELDS, Settings, ensure_secrets


def test_defaults_are_derived_from_var_dir_and_bind_address(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, host="127.0.0.1", port=8123)
    assert settings.database_url == f"sqlite:///{tmp_path / 'facade.db'}"
    assert settings.public_base_url == "http://127.0.0.1:8123"


def test_trailing_slashes_are_removed(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path, fhir_base_url="http://h:1/fhir/", public_base_url="https://x/"
    )
    assert settings.fhir_base_url == "http://h:1/fhir"
    assert settings.public_base_url == "https://x"


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTE_FHIR_BASE_URL", "http://hapi.internal:8080/fhir")
    monkeypatch.setenv("VTE_UPSTREAM_MAX_CONNECTIONS", "4")
    settings = Settings(var_dir=tmp_path)
    assert settings.fhir_base_url == "http://hapi.internal:8080/fhir"
    assert settings.upstream_max_connections == 4


def test_production_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="VTE_PSEUDONYM_KEY"):
        ensure_secrets(Settings(environment="production", var_dir=tmp_path))


def test_development_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = ensure_secrets(Settings(var_dir=tmp_path))
    second = ensure_secrets(Settings(var_dir=tmp_path))
    for name in SECRET_FIELDS:
        assert len(first.secret(name)) == 32
        assert first.secret(name) == second.secret(name)
    assert len({first.secret(name) for name in SECRET_FIELDS}) == len(SECRET_FIELDS)
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_configured_secret_wins_over_generated(tmp_path: Path) -> None:
    key = "ab" * 32
    settings = ensure_secrets(Settings(var_dir=tmp_path, pseudonym_key=key))
    assert settings.secret("pseudonym_key") == bytes.fromhex(key)


def test_the_upstream_follows_the_local_hapi_port_unless_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VTE_FHIR_BASE_URL", raising=False)
    monkeypatch.setenv("VTE_HAPI_PORT", "8133")
    assert Settings(_env_file=None).fhir_base_url == "http://127.0.0.1:8133/fhir"
    monkeypatch.setenv("VTE_FHIR_BASE_URL", "http://hapi.internal:8080/fhir/")
    assert Settings(_env_file=None).fhir_base_url == "http://hapi.internal:8080/fhir"
