"""Helpers of the native gateway tests: registering an institution and app, counting stored rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select

from facade.db import Database
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.tables import IntakeBatch, IntakeRecord
from facade.settings import Settings, ensure_secrets

GATEWAY = "/vte-x/v1/gateway"
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def make_uscc(first17: str) -> str:
    """A unified social credit code with the correct check character."""
    total = sum(_USCC.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _USCC[(31 - total % 31) % 31]


def random_uscc() -> str:
    """A fresh valid code in region 320100 (so generated appIds look like H320100001)."""
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    return make_uscc(f"12320100{digits}M")


@dataclass
class Registered:
    """An institution and an app of it, with the clear secret the operator was shown."""

    org_code: str
    app_id: str
    secret: str


def register(
    settings: Settings,
    database: Database,
    *,
    org_code: str | None = None,
    sign_types: tuple[str, ...] = credentials.DEFAULT_SIGN_TYPES,
    enc_types: tuple[str, ...] = credentials.ALL_ENC_TYPES,
    ip_allowlist: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    sm2_public_key: str | None = None,
    client_cert_sha256: tuple[str, ...] = (),
) -> Registered:
    """Register an institution (its FHIR side is out of scope here) and issue an app."""
    code = org_code or random_uscc()
    box = SecretBox.for_purpose(ensure_secrets(settings), APP_SECRETS)
    with database.session() as session:
        if orgs.find_org(session, code) is None:
            orgs.add_org(session, code, "测试医院", grade="31", fhir_id="test")
        issued = credentials.issue_app(
            session,
            box,
            code,
            name="VTE 系统",
            sign_types=sign_types,
            enc_types=enc_types,
            ip_allowlist=ip_allowlist,
            services=services,
            sm2_public_key=sm2_public_key,
            client_cert_sha256=client_cert_sha256,
        )
    return Registered(code, issued.app_id, issued.secret)


def stored_counts(database: Database) -> tuple[int, int]:
    """(batches, receipts) in the facade database."""
    batches = select(func.count()).select_from(IntakeBatch).scalar_subquery()
    records = select(func.count()).select_from(IntakeRecord).scalar_subquery()
    with database.session() as session:
        row = session.execute(select(batches, records)).one()
    return int(row[0]), int(row[1])


class Credentials(Protocol):
    """Anything holding an app's credentials (a Registered, or another client)."""

    app_id: str
    org_code: str
    secret: str


def client_for(app: Credentials, http: httpx.Client, **options: Any) -> VteXClient:
    """The reference client of ``app`` talking to an in-process facade."""
    return VteXClient(
        GATEWAY, app_id=app.app_id, org_code=app.org_code, secret=app.secret, http=http, **options
    )
