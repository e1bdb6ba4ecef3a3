"""Test helpers for the mapping engine and forwarder: an admitted hospital with a signing client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from facade.db import Database
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.settings import Settings, ensure_secrets

GATEWAY = "/vte-x/v1/gateway"
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def new_org_code() -> str:
    """A fresh unified social credit code with a correct check character."""
    first = f"12330100{uuid.uuid4().int % 10**8:08d}M"
    total = sum(_USCC.index(ch) * w for ch, w in zip(first, _WEIGHTS, strict=True))
    return first + _USCC[(31 - total % 31) % 31]


@dataclass
class Hospital:
    """An admitted institution and its app."""

    org_code: str
    app_id: str
    secret: str

    def client(self, http: httpx.Client, url: str = GATEWAY, **kwargs: Any) -> VteXClient:
        """A VTE-X client of this hospital's app over ``http`` (HMAC-SM3 by default)."""
        kwargs.setdefault("sign_type", "HMAC-SM3")
        return VteXClient(
            url, app_id=self.app_id, org_code=self.org_code, secret=self.secret, http=http, **kwargs
        )


def admit(settings: Settings, database: Database, *, fhir_id: str = "pending") -> Hospital:
    """Register an institution in the facade database and issue one app for every service."""
    code = new_org_code()
    box = SecretBox.for_purpose(ensure_secrets(settings), APP_SECRETS)
    with database.session() as session:
        orgs.add_org(session, code, "测试医院", grade="31", fhir_id=fhir_id)
        issued = credentials.issue_app(session, box, code, name="VTE 系统")
    return Hospital(code, issued.app_id, issued.secret)
