"""The parent's registry of child regions: each bound to the SMART client (role ``region``) reporting for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from facade.db import Database
from facade.db.tables import utcnow
from facade.errors import Conflict, InvalidInput, Issue, NotFound
from facade.network.tables import NetworkRegion
from facade.security.clients import ClientInfo, ClientRegistry
from facade.security.roles import Role

REGION_CODE = re.compile(r"^[0-9]{6}$")
# What a region client may ask for: submitting MeasureReports (``$submit-data``, linkage).
REGION_SCOPES = "system/MeasureReport.cu"


@dataclass(frozen=True)
class RegionInfo:
    """A registered child region."""

    code: str
    name: str
    client_id: str
    enabled: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form (camelCase, like every ``--json`` document)."""
        return {
            "code": self.code,
            "name": self.name,
            "clientId": self.client_id,
            "enabled": self.enabled,
            "createdAt": self.created_at.isoformat(),
        }


def _info(row: NetworkRegion) -> RegionInfo:
    return RegionInfo(row.code, row.name, row.client_id, row.enabled, row.created_at)


class RegionRegistry:
    """Child regions in the facade database."""

    def __init__(self, database: Database, clients: ClientRegistry) -> None:
        self.database = database
        self.clients = clients

    def register(
        self, code: str, name: str, *, jwks: Any | None = None, client_id: str | None = None
    ) -> tuple[RegionInfo, ClientInfo]:
        """Register a region: with ``jwks``, a new ``region`` client for it; with ``client_id``,
        an existing region client (one platform may report for several regions)."""
        issues = []
        if not REGION_CODE.match(code):
            issues.append(
                Issue("code", "region-code", "a region code has 6 digits (GB/T 2260, e.g. 330100)")
            )
        if not name.strip():
            issues.append(Issue("name", "required", "a region needs a name people recognise"))
        if (jwks is None) == (client_id is None):
            issues.append(
                Issue("jwks", "one-of", "give the child's public JWKS or an existing --client-id")
            )
        if issues:
            raise InvalidInput("region registration refused", issues=issues)
        if self.get(code) is not None:
            raise Conflict(f"region {code} is already registered")
        if client_id is not None:
            client = self.clients.get(client_id)
            if client is None or client.role is not Role.REGION:
                raise InvalidInput(
                    "region registration refused",
                    issues=[
                        Issue("client_id", "region-client", f"{client_id} is no region client")
                    ],
                )
        else:
            client = self.clients.register(
                name=f"{name.strip()} ({code})",
                role=Role.REGION,
                jwks=jwks,
                scopes=REGION_SCOPES,
                client_id=f"region-{code}",
            )
        row = NetworkRegion(
            code=code,
            name=name.strip(),
            client_id=client.client_id,
            enabled=True,
            created_at=utcnow(),
        )
        with self.database.session() as session:
            session.add(row)
        return _info(row), client

    def get(self, code: str) -> RegionInfo | None:
        """The region with this code."""
        with self.database.session() as session:
            row = session.get(NetworkRegion, code)
            return _info(row) if row else None

    def all(self) -> list[RegionInfo]:
        """Every registered region, by code."""
        with self.database.session() as session:
            return [
                _info(r)
                for r in session.scalars(select(NetworkRegion).order_by(NetworkRegion.code))
            ]

    def enabled(self) -> list[RegionInfo]:
        """The regions whose reports make up the area."""
        return [r for r in self.all() if r.enabled]

    def of_client(self, client_id: str) -> list[str]:
        """Codes of the enabled regions a client reports for."""
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(NetworkRegion.code).where(
                        NetworkRegion.client_id == client_id, NetworkRegion.enabled.is_(True)
                    )
                )
            )

    def set_enabled(self, code: str, enabled: bool) -> RegionInfo:
        """Take a region out of the area (its reports no longer count) or back in."""
        with self.database.session() as session:
            row = session.get(NetworkRegion, code)
            if row is None:
                raise NotFound(f"no region {code}")
            row.enabled = enabled
            return _info(row)
