"""Test kit for the FHIR door: system clients with real keys, client assertions and access tokens.

Keys are generated once per process (RSA generation is slow); clients differ by id.
"""

from __future__ import annotations

import random
import string
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from facade.db import Database
from facade.native import orgs
from facade.security.clients import ClientRegistry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_USCC_HEAD = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@lru_cache
def key_pair(alg: str, kid: str = "k1") -> tuple[Any, dict[str, Any]]:
    """(private key, public JWK) for RS384 or ES384."""
    private: Any
    if alg == "RS384":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return private, jwk


def random_org(rng: random.Random | None = None) -> str:
    """An 18-character code shaped like a unified social credit code (IG invariant vte-org-3)."""
    rng = rng or random.Random()
    head = "".join(rng.choice(_USCC_HEAD) for _ in range(2))
    region = "".join(rng.choice(string.digits) for _ in range(6))
    tail = "".join(rng.choice(_USCC_HEAD) for _ in range(10))
    return head + region + tail


def admitted_org(database: Database, rng: random.Random | None = None) -> str:
    """A fresh institution admitted to the registry (hospital clients may only act for one)."""
    code = random_org(rng)
    with database.session() as session:
        orgs.add_org(session, code, "测试医院", grade="31", fhir_id="test")
    return code


@dataclass
class SystemClient:
    """A registered client and the private key it signs assertions with."""

    client_id: str
    role: str
    org: str | None
    alg: str
    kid: str
    private_key: Any

    def assertion(self, token_url: str, **overrides: Any) -> str:
        """A client assertion; ``overrides`` replace claims (``exp_in`` seconds, ``headers`` dict)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": token_url,
            "exp": now + int(overrides.pop("exp_in", 240)),
            "iat": now,
            "jti": uuid.uuid4().hex,
        }
        key = overrides.pop("key", self.private_key)
        alg = overrides.pop("alg", self.alg)
        headers = {"kid": self.kid, **overrides.pop("headers", {})}
        claims.update(overrides)
        return jwt.encode(claims, key, algorithm=alg, headers=headers)


def register(
    database: Database,
    role: str,
    *,
    org: str | None = None,
    scopes: str = "system/*.rs",
    alg: str = "ES384",
    name: str | None = None,
) -> SystemClient:
    """Register a client with a fresh id and the process-wide key for ``alg``."""
    private, jwk = key_pair(alg)
    info = ClientRegistry(database).register(
        name=name or f"test {role}",
        role=role,
        org_code=org,
        jwks={"keys": [jwk]},
        scopes=scopes,
        client_id=f"t-{role}-{uuid.uuid4().hex[:12]}",
    )
    return SystemClient(info.client_id, role, org, alg, jwk["kid"], private)


def token_form(
    client: SystemClient, token_url: str, scope: str, **overrides: Any
) -> dict[str, str]:
    """The form body of a token request."""
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client.assertion(token_url, **overrides),
        "scope": scope,
    }


def get_token(
    http: Any, client: SystemClient, public_base: str, scope: str, *, post_base: str = ""
) -> str:
    """An access token from the facade.

    ``public_base`` is the facade's public URL (the assertion's audience); ``post_base`` is where
    ``http`` sends the request ("" for a TestClient, the server URL for an httpx.Client).
    """
    form = token_form(client, f"{public_base}/auth/token", scope)
    response = http.post(f"{post_base}/auth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
