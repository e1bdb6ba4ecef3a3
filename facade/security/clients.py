"""The client registry: register, look up and disable system clients; remember used assertion ids."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import InvalidInput, Issue, NotFound
from facade.security.institutions import InstitutionRegistry
from facade.security.jwks import JwksError, check_jwks
from facade.security.roles import Role, policy
from facade.security.scopes import ScopeError, ScopeSet
from facade.security.tables import ApiClient, UsedAssertion

# Same rule as the native gateway's orgCode: 18 characters, digits or capitals (统一社会信用代码).
ORG_CODE = re.compile(r"^[0-9A-Z]{18}$")


@dataclass(frozen=True)
class ClientInfo:
    """A registered client as the rest of the facade sees it."""

    client_id: str
    name: str
    role: Role
    org_code: str | None
    scopes: ScopeSet
    jwks: dict[str, Any]
    enabled: bool
    created_at: datetime

    def summary(self) -> dict[str, Any]:
        """Plain dict for CLI output (key ids only, not the keys)."""
        return {
            "clientId": self.client_id,
            "name": self.name,
            "role": self.role.value,
            "orgCode": self.org_code,
            "scopes": str(self.scopes),
            "keyIds": [k.get("kid") for k in self.jwks.get("keys", [])],
            "enabled": self.enabled,
            "createdAt": self.created_at.isoformat(),
        }


def _info(row: ApiClient) -> ClientInfo:
    return ClientInfo(
        client_id=row.client_id,
        name=row.name,
        role=Role(row.role),
        org_code=row.org_code,
        scopes=ScopeSet.parse(row.scopes),
        jwks=orjson.loads(row.jwks),
        enabled=row.enabled,
        created_at=row.created_at,
    )


class ClientRegistry:
    """Registered clients in the facade database (shared by every worker)."""

    def __init__(self, database: Database, institutions: InstitutionRegistry | None = None) -> None:
        self.database = database
        self.institutions = institutions or InstitutionRegistry(database, ttl_seconds=0)
        # Bumped by every change through this registry (the caller cache drops what it made stale).
        self.generation = 0

    def register(
        self,
        *,
        name: str,
        role: Role | str,
        jwks: Any,
        scopes: str | list[str],
        org_code: str | None = None,
        client_id: str | None = None,
    ) -> ClientInfo:
        """Validate and store a new client; InvalidInput names every field that is wrong."""
        issues: list[Issue] = []
        try:
            role = Role(role)
        except ValueError:
            issues.append(
                Issue(
                    "role", "known-role", f"role must be one of {', '.join(r.value for r in Role)}"
                )
            )
            raise InvalidInput("client registration refused", issues=issues) from None
        rules = policy(role)
        if not name.strip():
            issues.append(Issue("name", "required", "a client needs a name people recognise"))
        if org_code is not None and not ORG_CODE.match(org_code):
            issues.append(
                Issue("org", "org-code", "org must be an 18-character unified social credit code")
            )
        if rules.needs_org and org_code is None:
            issues.append(
                Issue("org", "required", f"role {role.value} acts for one organisation; give --org")
            )
        elif rules.needs_org and org_code is not None and ORG_CODE.match(org_code):
            refusal = self.institutions.refusal(org_code)
            if refusal is not None:
                issues.append(Issue("org", "admitted-institution", refusal))
        try:
            check_jwks(jwks)
        except JwksError as exc:
            issues.append(Issue("jwks", "jwks", str(exc)))
        parsed: ScopeSet | None = None
        try:
            parsed = ScopeSet.parse(scopes)
            if not parsed.scopes:
                issues.append(Issue("scope", "required", "at least one scope is needed"))
            for problem in parsed.within(rules):
                issues.append(Issue("scope", "role-ceiling", problem))
        except ScopeError as exc:
            issues.append(Issue("scope", "scope-syntax", str(exc)))
        if issues or parsed is None:
            raise InvalidInput("client registration refused", issues=issues)
        row = ApiClient(
            client_id=client_id or f"{role.value}-{secrets.token_hex(8)}",
            name=name.strip(),
            role=role.value,
            org_code=org_code,
            scopes=str(parsed),
            jwks=orjson.dumps(jwks).decode(),
            enabled=True,
            created_at=utcnow(),
        )
        try:
            with self.database.session() as session:
                session.add(row)
        except IntegrityError as exc:
            raise InvalidInput(
                "client registration refused",
                issues=[
                    Issue(
                        "client_id", "unique", f"client id {row.client_id!r} is already registered"
                    )
                ],
            ) from exc
        return _info(row)

    def get(self, client_id: str) -> ClientInfo | None:
        """The client with this id, enabled or not; None when unknown."""
        with self.database.session() as session:
            row = session.get(ApiClient, client_id)
            return _info(row) if row else None

    def list(self) -> list[ClientInfo]:
        """Every registered client, oldest first."""
        with self.database.session() as session:
            rows = session.scalars(
                select(ApiClient).order_by(ApiClient.created_at, ApiClient.client_id)
            )
            return [_info(row) for row in rows]

    def disable(self, client_id: str) -> ClientInfo:
        """Stop a client from getting tokens; its live tokens stop working on the next request."""
        with self.database.session() as session:
            row = session.get(ApiClient, client_id)
            if row is None:
                raise NotFound(f"no client {client_id!r}")
            if row.enabled:
                row.enabled = False
                row.disabled_at = utcnow()
        self.generation += 1
        return _info(row)

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        """Record a used assertion id; False when the client already used it (a replay)."""
        digest = hashlib.sha256(jti.encode("utf-8")).hexdigest()
        now = utcnow()
        try:
            with self.database.session() as session:
                # Expired ids can't be replayed anyway (the assertion would fail exp); drop them.
                session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
                session.add(
                    UsedAssertion(client_id=client_id, jti_digest=digest, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True
