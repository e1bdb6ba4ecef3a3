"""One typed settings object for the whole facade, read from the environment (prefix ``VTE_``)."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from facade.errors import ConfigurationError

# The names of the secrets the facade needs. Each is 32 random bytes, hex-encoded.
SECRET_FIELDS = ("master_key", "pseudonym_key", "research_key", "token_signing_key")


def _repo_root() -> Path:
    """The project directory holding ``mappings/`` and ``profiles/``.

    In a checkout that is the parent of ``facade/``; an installed package (the Docker image) runs
    from its working directory instead.
    """
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "mappings").is_dir() else Path.cwd()


class Settings(BaseSettings):
    """Everything the facade is configured with; passed in, never read from globals mid-call.

    Every field can be set as ``VTE_<FIELD>`` in the environment or in a ``.env`` file.
    """

    model_config = SettingsConfigDict(
        env_prefix="VTE_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"

    # -- the facade's own HTTP service
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="",
        description="Base URL clients use to reach the facade; derived from host/port when empty.",
    )

    # -- upstream HAPI FHIR server
    fhir_base_url: str = "http://127.0.0.1:8080/fhir"
    upstream_timeout_seconds: float = 30.0
    upstream_connect_timeout_seconds: float = 5.0
    # HAPI on two cores saturates well below this; more connections only queue inside HAPI.
    upstream_max_connections: int = 16

    # -- the facade's own database (credentials, receipts, nonces, queue, audit)
    var_dir: Path = Field(default_factory=lambda: _repo_root() / "var")
    database_url: str = ""

    # -- secrets (never in the repository; generated into var/ for development only)
    master_key: SecretStr | None = None
    pseudonym_key: SecretStr | None = None
    research_key: SecretStr | None = None
    token_signing_key: SecretStr | None = None

    # -- the local HAPI jar managed by ``vte-facade hapi``
    hapi_module_dir: Path = Field(default_factory=lambda: _repo_root() / "docker" / "hapi")
    hapi_port: int = 8080
    hapi_java_opts: str = "-Xmx1536m"
    hapi_start_timeout_seconds: float = 300.0
    hapi_jdbc_url: str = ""
    hapi_jdbc_username: str = ""
    hapi_jdbc_password: SecretStr | None = None

    # -- logging
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'facade.db'}"
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        self.fhir_base_url = self.fhir_base_url.rstrip("/")
        return self

    @property
    def hapi_state_dir(self) -> Path:
        """Where the launcher keeps the HAPI pid file, log and embedded database."""
        return self.var_dir / "hapi"

    def secret(self, name: str) -> bytes:
        """Return a configured secret as bytes; raise if it is missing."""
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(f"secret VTE_{name.upper()} is not configured")
        return bytes.fromhex(value.get_secret_value())


def ensure_secrets(settings: Settings) -> Settings:
    """Fill missing secrets: from ``var/dev-secrets.json`` outside production, else refuse.

    Development secrets are generated once and kept in the (git-ignored) var directory so that
    pseudonyms stay stable across restarts of a developer's machine.
    """
    missing = [name for name in SECRET_FIELDS if getattr(settings, name) is None]
    if not missing:
        return settings
    if settings.environment == "production":
        names = ", ".join(f"VTE_{name.upper()}" for name in missing)
        raise ConfigurationError(f"production requires these secrets in the environment: {names}")
    path = settings.var_dir / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in missing:
        stored.setdefault(name, secrets.token_hex(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return settings.model_copy(update={name: SecretStr(stored[name]) for name in missing})


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built once; tests override the FastAPI dependency instead."""
    return ensure_secrets(Settings())
