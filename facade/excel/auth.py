"""Authenticate Excel uploads and downloads with the app's VTE-X credentials, carried in headers.

The signed members are the envelope's own (appId, orgCode, timestamp, nonce, signType and the
optional keyVersion) plus ``fileDigest`` (lower-case hex SM3 of the uploaded bytes) or
``importId`` (for a download). The string to sign, the three sign types, the time window, the
nonce cache, the rate limit and the IP allow-list are exactly the gateway's, so a vendor reuses
the signing function it already has and the body goes up as plain bytes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from facade.db import Database
from facade.native import replay
from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess, load_access, load_secret
from facade.native.envelope import APP_ID, KEY_VERSION, NONCE, ORG_CODE
from facade.native.mtls import check_client_certificate
from facade.native.ratelimit import take_token
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.signing import SignType, compute_sign, sign_matches
from facade.settings import Settings

PREFIX = "X-VTE-"
HEADERS = {
    "appId": "X-VTE-AppId",
    "orgCode": "X-VTE-OrgCode",
    "timestamp": "X-VTE-Timestamp",
    "nonce": "X-VTE-Nonce",
    "signType": "X-VTE-SignType",
    "keyVersion": "X-VTE-KeyVersion",
    "sign": "X-VTE-Sign",
}
REQUIRED = ("appId", "orgCode", "timestamp", "nonce", "signType", "sign")
_FORMATS = {"appId": APP_ID, "orgCode": ORG_CODE, "nonce": NONCE, "keyVersion": KEY_VERSION}


def signed_headers(
    *,
    app_id: str,
    org_code: str,
    secret: str,
    subject: Mapping[str, str],
    sign_type: str = SignType.HMAC_SM3.value,
    key_version: str = "",
    now_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a client sends: ``subject`` is ``{"fileDigest": sm3hex}`` or ``{"importId": id}``."""
    members = {
        "appId": app_id,
        "orgCode": org_code,
        "timestamp": str(now_ms if now_ms is not None else int(time.time() * 1000)),
        "nonce": nonce or uuid.uuid4().hex,
        "signType": sign_type,
    }
    if key_version:
        members["keyVersion"] = key_version
    headers = {HEADERS[name]: value for name, value in members.items()}
    headers[HEADERS["sign"]] = compute_sign({**members, **subject}, secret, sign_type)
    return headers


def verify_request(
    settings: Settings,
    database: Database,
    headers: Mapping[str, str],
    subject: Mapping[str, str],
    client_ip: str,
    *,
    now_ms: int | None = None,
    client_cert: bytes | None = None,
) -> AppAccess:
    """Check the signed headers over ``subject``; ProtocolRejected with the gateway's 1xxx codes otherwise."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    members = _members(headers)
    with database.session() as session:
        access = load_access(session, members["appId"])
    if access is None or not access.active or not access.key_versions:
        raise reject(Code.UNKNOWN_APP, field=HEADERS["appId"])
    if access.org_code != members["orgCode"] or not access.org_active:
        raise reject(
            Code.ORG_NOT_AUTHORISED,
            "该 appId 未绑定此 orgCode 或机构已停用",
            field=HEADERS["orgCode"],
        )
    if not access.allows_ip(client_ip):
        raise reject(Code.IP_NOT_ALLOWED)
    check_client_certificate(access, client_cert)
    if members["signType"] not in access.sign_types:
        allowed = "、".join(sorted(access.sign_types))
        raise reject(
            Code.SIGN_TYPE_NOT_ALLOWED, f"该应用允许：{allowed}", field=HEADERS["signType"]
        )
    window = settings.native_timestamp_window_seconds
    if not members["timestamp"].isdigit() or len(members["timestamp"]) != 13:
        raise reject(Code.BAD_TIMESTAMP, "须为 13 位 Unix 毫秒时间戳", field=HEADERS["timestamp"])
    if abs(now - int(members["timestamp"])) > window * 1000:
        raise reject(
            Code.BAD_TIMESTAMP, f"与服务器时间相差超过 {window} 秒", field=HEADERS["timestamp"]
        )
    version = int(members["keyVersion"]) if members.get("keyVersion") else access.key_versions[0]
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        secret = (
            load_secret(session, box, access.app_id, version)
            if version in access.key_versions
            else None
        )
    if secret is None:
        raise reject(Code.BAD_SIGNATURE, "keyVersion 无效或已停用", field=HEADERS["keyVersion"])
    signed = {name: value for name, value in members.items() if name != "sign"}
    if not sign_matches(
        {**signed, **subject},
        secret,
        members["signType"],
        members["sign"],
        sm2_public_key=access.sm2_public_key,
    ):
        what = "、".join(subject)
        raise reject(
            Code.BAD_SIGNATURE, f"请核对待签名串（含 {what}）、密钥与编码", field=HEADERS["sign"]
        )
    with database.session() as session:
        if not take_token(
            session,
            access.app_id,
            now_ms=now,
            rate=settings.native_rate_per_second,
            burst=settings.native_rate_burst,
        ):
            raise reject(Code.RATE_LIMITED)
        if not replay.claim_nonce(
            session,
            access.app_id,
            members["nonce"],
            now_ms=now,
            ttl_seconds=settings.native_nonce_ttl_seconds,
        ):
            raise reject(Code.REPLAYED_NONCE, "请为每次请求生成新的 nonce", field=HEADERS["nonce"])
    return access


def _members(headers: Mapping[str, str]) -> dict[str, str]:
    members: dict[str, str] = {}
    for name, header in HEADERS.items():
        value = headers.get(header, "").strip()
        if value:
            members[name] = value
    missing = [HEADERS[name] for name in REQUIRED if name not in members]
    if missing:
        raise reject(Code.BAD_ENVELOPE, f"缺少请求头 {'、'.join(missing)}", field=missing[0])
    for name, pattern in _FORMATS.items():
        if name in members and not pattern.fullmatch(members[name]):
            raise reject(Code.BAD_ENVELOPE, "格式不符", field=HEADERS[name])
    if members["signType"] not in {t.value for t in SignType}:
        raise reject(Code.SIGN_TYPE_NOT_ALLOWED, field=HEADERS["signType"])
    return members
