"""App credentials: issue, rotate, revoke, and the per-request lookup the gateway verifies against."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facade.db.tables import utcnow
from facade.errors import Conflict, InvalidInput, Issue, NotFound
from facade.native import sm2
from facade.native.crypto import EncType
from facade.native.envelope import APP_ID
from facade.native.orgs import require_org
from facade.native.sealing import SecretBox
from facade.native.services import SERVICE_CODE
from facade.native.signing import SignType, sign_matches
from facade.native.tables import NativeApp, NativeAppKey, NativeOrg

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ALL_SIGN_TYPES = tuple(t.value for t in SignType)
# SM2 needs the app's public key, so it is only allowed when one is registered.
DEFAULT_SIGN_TYPES = tuple(t for t in ALL_SIGN_TYPES if t != SignType.SM2)
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
ALL_ENC_TYPES = tuple(t.value for t in EncType)
_REGION = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly issued secret: shown to the operator once, never retrievable again."""

    app_id: str
    org_code: str
    key_version: int
    secret: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``--json``."""
        return {
            "appId": self.app_id,
            "orgCode": self.org_code,
            "keyVersion": self.key_version,
            "appSecret": self.secret,
        }


@dataclass(frozen=True)
class AppAccess:
    """Everything the gateway checks about an app before it looks at a signature.

    Whether its institution may report is the institution registry's to say
    (``facade.security.institutions``), not a copy here.
    """

    app_id: str
    org_code: str
    active: bool
    sign_types: frozenset[str]
    enc_types: frozenset[str]
    networks: tuple[IpNetwork, ...]
    services: frozenset[str]  # empty: every service
    key_versions: tuple[int, ...]  # active versions, newest first
    sm2_public_key: bytes | None = None  # x‖y, for signType=SM2
    client_cert_sha256: frozenset[str] = frozenset()  # pinned certificates; empty: no mTLS

    def allows_ip(self, address: str) -> bool:
        """Whether a request from ``address`` may pass (no allow-list: every address)."""
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def allows_service(self, service_code: str) -> bool:
        """Whether the app may call ``service_code``."""
        return not self.services or service_code in self.services

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``app list``."""
        return {
            "appId": self.app_id,
            "orgCode": self.org_code,
            "status": "active" if self.active else "revoked",
            "signTypes": sorted(self.sign_types),
            "encTypes": sorted(self.enc_types),
            "ipAllowList": [str(n) for n in self.networks],
            "services": sorted(self.services),
            "keyVersions": list(self.key_versions),
            "sm2PublicKey": sm2.public_key_hex(self.sm2_public_key)
            if self.sm2_public_key
            else None,
            "clientCertSha256": sorted(self.client_cert_sha256),
        }


def parse_choices(values: Iterable[str], allowed: Sequence[str], field: str) -> list[str]:
    """Validate a list of signType/encType/serviceCode values (order kept, duplicates dropped)."""
    chosen = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise InvalidInput(
            f"{field} must be one or more of {', '.join(allowed)}",
            issues=[Issue(field, "choice", f"allowed: {', '.join(allowed)}")],
        )
    return chosen


def parse_services(values: Iterable[str]) -> list[str]:
    """Validate service codes an app is limited to (none: every service)."""
    chosen = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if any(not SERVICE_CODE.fullmatch(code) for code in chosen):
        raise InvalidInput(
            "service codes look like VTE.CASE.UPLOAD",
            issues=[Issue("services", "pattern", "VTE followed by .WORD parts in capitals")],
        )
    return chosen


def parse_networks(values: Iterable[str]) -> list[str]:
    """Validate CIDRs (a bare address means that one host)."""
    networks: list[str] = []
    for value in (v.strip() for v in values if v.strip()):
        try:
            networks.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError as exc:
            raise InvalidInput(
                "IP allow-list entries must be addresses or CIDRs",
                issues=[Issue("ipAllowList", "cidr", "an address or CIDR such as 10.2.0.0/16")],
            ) from exc
    return networks


def parse_sm2_public_key(text: str) -> str:
    """An app's SM2 public key as stored (uncompressed hex); InvalidInput naming the rule if not one."""
    try:
        return sm2.public_key_hex(sm2.parse_public_key(text))
    except sm2.Sm2KeyError as exc:
        raise InvalidInput(
            "the SM2 public key is not a point of the SM2 curve",
            issues=[Issue("sm2PublicKey", "sm2-point", str(exc))],
        ) from exc


def parse_fingerprints(values: Iterable[str]) -> list[str]:
    """SHA-256 certificate fingerprints as lower-case hex (colons, as openssl prints them, allowed)."""
    chosen = list(dict.fromkeys(v.strip().replace(":", "").lower() for v in values if v.strip()))
    if any(not _FINGERPRINT.fullmatch(value) for value in chosen):
        raise InvalidInput(
            "client certificate fingerprints are SHA-256 digests",
            issues=[
                Issue(
                    "clientCertSha256",
                    "sha256-hex",
                    "64 hex digits, e.g. from `openssl x509 -noout -fingerprint -sha256`",
                )
            ],
        )
    return chosen


def _sm2_settings(sign_types: Sequence[str], public_key: str | None) -> tuple[str, str | None]:
    """The stored sign types and key; SM2 may only be allowed together with a public key."""
    chosen = parse_choices(sign_types, ALL_SIGN_TYPES, "signTypes")
    stored_key = parse_sm2_public_key(public_key) if public_key else None
    if SignType.SM2 in chosen and stored_key is None:
        raise InvalidInput(
            "signType SM2 needs the app's SM2 public key",
            issues=[Issue("sm2PublicKey", "required-for-sm2", "register the app's SM2 public key")],
        )
    return ",".join(chosen), stored_key


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _require_app(session: Session, app_id: str) -> NativeApp:
    app = session.scalar(select(NativeApp).where(NativeApp.app_id == app_id))
    if app is None:
        raise NotFound(f"app {app_id} does not exist")
    return app


def _active_keys(session: Session, app: NativeApp) -> list[NativeAppKey]:
    query = (
        select(NativeAppKey)
        .where(NativeAppKey.app_pk == app.id, NativeAppKey.status == "active")
        .order_by(NativeAppKey.key_version.desc())
    )
    return list(session.scalars(query))


def _new_key(
    session: Session, box: SecretBox, app: NativeApp, version: int, org_code: str
) -> IssuedSecret:
    secret = secrets.token_hex(32)  # 256 bits, platform-generated, never chosen by a person
    sealed = box.seal(secret.encode("ascii"), f"{app.app_id}|{version}")
    session.add(
        NativeAppKey(app_pk=app.id, key_version=version, secret_sealed=sealed, status="active")
    )
    session.flush()
    return IssuedSecret(app.app_id, org_code, version, secret)


def _generated_app_id(session: Session, org_code: str) -> str:
    """``H`` + the 6-digit region in the credit code + a sequence, like ``H320100001``."""
    region = (
        org_code[2:8] if _REGION.fullmatch(org_code[2:8]) else f"{secrets.randbelow(10**6):06d}"
    )
    taken = set(
        session.scalars(select(NativeApp.app_id).where(NativeApp.app_id.like(f"H{region}%")))
    )
    for sequence in range(1, 10**6):
        candidate = f"H{region}{sequence:03d}"
        if candidate not in taken:
            return candidate
    raise Conflict(f"no free app id left for region {region}")


def issue_app(
    session: Session,
    box: SecretBox,
    org_code: str,
    *,
    name: str,
    app_id: str | None = None,
    sign_types: Sequence[str] = DEFAULT_SIGN_TYPES,
    enc_types: Sequence[str] = ALL_ENC_TYPES,
    ip_allowlist: Sequence[str] = (),
    services: Sequence[str] = (),
    sm2_public_key: str | None = None,
    client_cert_sha256: Sequence[str] = (),
) -> IssuedSecret:
    """Create an app bound to an active institution and issue key version 1."""
    org = require_org(session, org_code)
    if org.status != "active":
        raise Conflict(f"institution {org_code} is disabled")
    if app_id is None:
        app_id = _generated_app_id(session, org_code)
    elif not APP_ID.fullmatch(app_id):
        raise InvalidInput(
            "appId must be 4–32 letters, digits, _ or -",
            issues=[Issue("appId", "pattern", "[A-Za-z0-9_-]{4,32}")],
        )
    if session.scalar(select(NativeApp.id).where(NativeApp.app_id == app_id)) is not None:
        raise Conflict(f"app {app_id} already exists (app ids are never reused)")
    stored_sign_types, stored_key = _sm2_settings(sign_types, sm2_public_key)
    app = NativeApp(
        app_id=app_id,
        org_id=org.id,
        name=name,
        status="active",
        sign_types=stored_sign_types,
        enc_types=",".join(parse_choices(enc_types, ALL_ENC_TYPES, "encTypes")),
        ip_allowlist=",".join(parse_networks(ip_allowlist)),
        services=",".join(parse_services(services)),
        sm2_public_key=stored_key,
        client_cert_sha256=",".join(parse_fingerprints(client_cert_sha256)),
    )
    session.add(app)
    session.flush()
    return _new_key(session, box, app, 1, org_code)


def update_app(
    session: Session,
    app_id: str,
    *,
    sign_types: Sequence[str] | None = None,
    enc_types: Sequence[str] | None = None,
    ip_allowlist: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    sm2_public_key: str | None = None,
    client_cert_sha256: Sequence[str] | None = None,
) -> None:
    """Change what an app may do (e.g. switch MD5 off); ``None`` leaves a setting as it is."""
    app = _require_app(session, app_id)
    if sign_types is not None or sm2_public_key is not None:
        app.sign_types, app.sm2_public_key = _sm2_settings(
            _split(app.sign_types) if sign_types is None else sign_types,
            sm2_public_key or app.sm2_public_key,
        )
    if client_cert_sha256 is not None:
        app.client_cert_sha256 = ",".join(parse_fingerprints(client_cert_sha256))
    if enc_types is not None:
        app.enc_types = ",".join(parse_choices(enc_types, ALL_ENC_TYPES, "encTypes"))
    if ip_allowlist is not None:
        app.ip_allowlist = ",".join(parse_networks(ip_allowlist))
    if services is not None:
        app.services = ",".join(parse_services(services))
    session.flush()


def rotate_key(session: Session, box: SecretBox, app_id: str) -> IssuedSecret:
    """Issue the next key version; the previous one stays valid until the rotation is completed.

    At most two versions are ever active: any version older than the previous one is retired.
    """
    app = _require_app(session, app_id)
    if app.status != "active":
        raise Conflict(f"app {app_id} is revoked")
    newest = session.scalar(
        select(NativeAppKey.key_version)
        .where(NativeAppKey.app_pk == app.id)
        .order_by(NativeAppKey.key_version.desc())
    )
    for key in _active_keys(session, app)[1:]:
        _retire(key)
    org_code = session.scalar(select(NativeOrg.org_code).where(NativeOrg.id == app.org_id)) or ""
    return _new_key(session, box, app, (newest or 0) + 1, org_code)


def complete_rotation(session: Session, app_id: str) -> list[int]:
    """Retire every active version but the newest; returns the retired versions."""
    app = _require_app(session, app_id)
    retired = _active_keys(session, app)[1:]
    for key in retired:
        _retire(key)
    session.flush()
    return [key.key_version for key in retired]


def revoke_app(session: Session, app_id: str) -> None:
    """Revoke an app for good: it is refused with 1002 and its sealed secrets are wiped."""
    app = _require_app(session, app_id)
    app.status = "revoked"
    app.revoked_at = utcnow()
    for key in _active_keys(session, app):
        _retire(key)
    session.flush()


def _retire(key: NativeAppKey) -> None:
    key.status = "retired"
    key.retired_at = utcnow()
    key.secret_sealed = None


def load_access(session: Session, app_id: str) -> AppAccess | None:
    """The gateway's view of an app, or None if no such app exists."""
    row = session.execute(
        select(NativeApp, NativeOrg)
        .join(NativeOrg, NativeOrg.id == NativeApp.org_id)
        .where(NativeApp.app_id == app_id)
    ).first()
    if row is None:
        return None
    app, org = row
    networks = tuple(ipaddress.ip_network(cidr) for cidr in _split(app.ip_allowlist))
    return AppAccess(
        app_id=app.app_id,
        org_code=org.org_code,
        active=app.status == "active",
        sign_types=frozenset(_split(app.sign_types)),
        enc_types=frozenset(_split(app.enc_types)),
        networks=networks,
        services=frozenset(_split(app.services)),
        key_versions=tuple(key.key_version for key in _active_keys(session, app)),
        sm2_public_key=sm2.parse_public_key(app.sm2_public_key) if app.sm2_public_key else None,
        client_cert_sha256=frozenset(_split(app.client_cert_sha256)),
    )


def load_secret(session: Session, box: SecretBox, app_id: str, key_version: int) -> str | None:
    """The clear secret of an active key version, or None if that version is not active."""
    sealed = session.scalar(
        select(NativeAppKey.secret_sealed)
        .join(NativeApp, NativeApp.id == NativeAppKey.app_pk)
        .where(
            NativeApp.app_id == app_id,
            NativeAppKey.key_version == key_version,
            NativeAppKey.status == "active",
        )
    )
    if sealed is None:
        return None
    return box.open(sealed, f"{app_id}|{key_version}").decode("ascii")


def list_apps(session: Session, org_code: str | None = None) -> list[AppAccess]:
    """Every app (optionally of one institution), by appId; secrets are never part of it."""
    query = select(NativeApp.app_id).order_by(NativeApp.app_id)
    if org_code is not None:
        query = query.join(NativeOrg, NativeOrg.id == NativeApp.org_id).where(
            NativeOrg.org_code == org_code
        )
    return [access for app_id in session.scalars(query) if (access := load_access(session, app_id))]


@dataclass(frozen=True)
class SignCheck:
    """Which key, if any, produced a request's sign.

    ``version_active`` is False when the request named a ``keyVersion`` that is not active (then
    no key was tried); otherwise ``secret``/``key_version`` are None when no active key matched.
    """

    version_active: bool
    key_version: int | None = None
    secret: str | None = None


def check_sign(
    session: Session,
    box: SecretBox,
    access: AppAccess,
    members: Mapping[str, str],
    *,
    key_version: str | None,
    sign_type: str,
    sign: str,
) -> SignCheck:
    """Verify ``sign`` over ``members`` with the app's key: the one ``key_version`` names, or,
    without it, the current key and then the previous one.

    During a rotation's overlap window (after ``app rotate``, until ``app complete-rotation``)
    two versions are active, so a hospital that has not switched yet keeps working without
    sending ``keyVersion``; the gateway and the Excel endpoints both check signs here.
    """
    if key_version:
        versions = [int(key_version)] if int(key_version) in access.key_versions else []
        if not versions:
            return SignCheck(version_active=False)
    else:
        versions = list(access.key_versions)  # newest first: current, then previous
    for version in versions:
        secret = load_secret(session, box, access.app_id, version)
        if secret is not None and sign_matches(
            members, secret, sign_type, sign, sm2_public_key=access.sm2_public_key
        ):
            return SignCheck(version_active=True, key_version=version, secret=secret)
    return SignCheck(version_active=True)
