"""Token service: verify client assertions (RS384/ES384), issue and verify short-lived access tokens.

Access tokens are HS256 JWTs signed with ``token_signing_key``; only this facade issues and reads
them, so a symmetric key is enough. They carry role, organisation and the granted scopes, and are
checked against the client registry; ``CallerCheck`` reuses a verified token's caller for at most
``caller_cache_seconds`` (default 5 s), so disabling a client takes effect at once in the process
that disabled it and within that time everywhere else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from facade.errors import NotAuthenticated
from facade.security.clients import ClientInfo, ClientRegistry
from facade.security.jwks import ALGORITHMS, JwksError, verification_key
from facade.security.roles import Role, RolePolicy, policy
from facade.security.scopes import ScopeError, ScopeSet
from facade.settings import Settings

TOKEN_PATH = "/auth/token"  # noqa: S105 - a URL path, not a secret
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ACCESS_ALG = "HS256"


class OAuthError(Exception):
    """A token request refused with an RFC 6749 error code (answered as OAuth JSON, not FHIR)."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, client_id: str | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        # Who the request claimed to be (unverified), for the audit trail.
        self.client_id = client_id


def invalid_client(description: str, client_id: str | None = None) -> OAuthError:
    """RFC 6749 §5.2: client authentication failed -> 401."""
    return OAuthError("invalid_client", description, status=401, client_id=client_id)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    client_id: str
    name: str
    role: Role
    org_code: str | None
    scopes: ScopeSet
    token_id: str
    expires_at: float = 0.0  # the token's exp (Unix seconds)

    @property
    def policy(self) -> RolePolicy:
        """The role's access ceiling."""
        return policy(self.role)


class TokenService:
    """Everything about tokens for one facade instance (one public base URL, one signing key)."""

    def __init__(self, settings: Settings, registry: ClientRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.token_url = settings.public_base_url + TOKEN_PATH
        self.audience = settings.public_base_url + "/fhir"
        self.issuer = settings.public_base_url + "/auth"
        self._key = settings.secret("token_signing_key")

    # -- the token endpoint

    def authenticate_client(self, assertion: str) -> ClientInfo:
        """Verify a SMART client assertion and return its client; OAuthError(invalid_client) if not.

        Checks: alg RS384/ES384, kid names a registered key, signature, iss = sub = client_id,
        aud = our token URL, exp present and at most five minutes ahead, jti never seen before.
        """
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise invalid_client("client_assertion is not a well-formed JWT") from exc
        claimed = unverified.get("iss")
        claimed = claimed if isinstance(claimed, str) and len(claimed) <= 64 else None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise invalid_client(f"client_assertion alg must be {' or '.join(ALGORITHMS)}", claimed)
        if not isinstance(kid, str) or not kid:
            raise invalid_client("client_assertion header needs a kid", claimed)
        client = self.registry.get(claimed) if claimed else None
        if client is None or not client.enabled:
            raise invalid_client("unknown or disabled client (iss)", claimed)
        try:
            key = verification_key(client.jwks, kid, alg)
        except JwksError as exc:
            raise invalid_client(str(exc), claimed) from exc
        leeway = self.settings.clock_leeway_seconds
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key,
                algorithms=[alg],
                audience=self.token_url,
                issuer=client.client_id,
                leeway=leeway,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise invalid_client("client_assertion has expired", claimed) from exc
        except jwt.InvalidAudienceError as exc:
            raise invalid_client(f"client_assertion aud must be {self.token_url}", claimed) from exc
        except jwt.InvalidSignatureError as exc:
            raise invalid_client("client_assertion signature does not verify", claimed) from exc
        except jwt.PyJWTError as exc:
            raise invalid_client(f"client_assertion rejected: {exc}", claimed) from exc
        if claims["sub"] != client.client_id:
            raise invalid_client("client_assertion sub must equal iss (the client id)", claimed)
        now = datetime.now(UTC)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if expires - now > timedelta(seconds=self.settings.client_assertion_max_seconds + leeway):
            raise invalid_client("client_assertion exp may be at most five minutes ahead", claimed)
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise invalid_client("client_assertion jti must be a non-empty string", claimed)
        if not self.registry.remember_assertion(
            client.client_id, jti, expires + timedelta(seconds=leeway)
        ):
            raise invalid_client("client_assertion jti was already used (replay)", claimed)
        return client

    def issue(self, client: ClientInfo, requested: str) -> dict[str, Any]:
        """The token response for an authenticated client asking for ``requested`` scopes."""
        try:
            wanted = ScopeSet.parse(requested)
        except ScopeError as exc:
            raise OAuthError("invalid_scope", str(exc), client_id=client.client_id) from exc
        granted = client.scopes.narrow(wanted).capped(policy(client.role))
        if not granted.scopes:
            raise OAuthError(
                "invalid_scope",
                "none of the requested scopes is registered for this client and allowed to its role",
                client_id=client.client_id,
            )
        now = datetime.now(UTC)
        ttl = self.settings.access_token_ttl_seconds
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client.client_id,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + ttl,
            "jti": secrets.token_hex(12),
            "scope": str(granted),
            "role": client.role.value,
        }
        if client.org_code:
            claims["org"] = client.org_code
        token = jwt.encode(claims, self._key, algorithm=_ACCESS_ALG)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": str(granted),
        }

    # -- every API request

    def verify(self, token: str) -> Principal:
        """The principal of a bearer token; NotAuthenticated when forged, expired or revoked."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[_ACCESS_ALG],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.settings.clock_leeway_seconds,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "role", "scope"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("access token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise NotAuthenticated(
                f"access token is not for this server (aud must be {self.audience})"
            ) from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("access token is invalid") from exc
        client = self.registry.get(str(claims["sub"]))
        if client is None or not client.enabled:
            raise NotAuthenticated("the client of this token is unknown or disabled")
        if client.role.value != claims["role"] or client.org_code != claims.get("org"):
            raise NotAuthenticated("access token does not match the client's registration")
        try:
            scopes = ScopeSet.parse(str(claims["scope"]))
        except ScopeError as exc:
            raise NotAuthenticated("access token carries unreadable scopes") from exc
        return Principal(
            client_id=client.client_id,
            name=client.name,
            role=client.role,
            org_code=client.org_code,
            scopes=scopes,
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
        )


def claimed_client(token: str) -> str | None:
    """The ``sub`` a bearer token claims, without verifying it (only for auditing refusals)."""
    try:
        sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    except jwt.PyJWTError:
        return None
    return sub if isinstance(sub, str) and len(sub) <= 64 else None
