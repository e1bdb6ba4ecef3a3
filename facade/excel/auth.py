"""Authenticate Excel uploads and downloads with the app's VTE-X credentials, carried in headers.

The signed members are the envelope's own (appId, orgCode, timestamp, nonce, signType and the
optional keyVersion) plus ``fileDigest`` (lower-case hex SM3 of the uploaded bytes) or
``importId`` (for a download). The string to sign, the three sign types, the time window, the
nonce cache, the rate limit, the IP allow-list and the institution check are the gateway's own
(``facade.security.callers``), so a vendor reuses the signing function it already has and the
body goes up as plain bytes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess
from facade.native.envelope import APP_ID, KEY_VERSION, NONCE, ORG_CODE
from facade.native.signing import SignType, compute_sign
from facade.security.callers import AppCall, AppCaller, CallerCheck

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
    callers: CallerCheck,
    headers: Mapping[str, str],
    subject: Mapping[str, str],
    client_ip: str,
    *,
    now_ms: int | None = None,
    client_cert: bytes | None = None,
) -> AppAccess:
    """Check the signed headers over ``subject``; ProtocolRejected with the gateway's 1xxx codes otherwise.

    The checks themselves are the gateway's (``CallerCheck.authenticate_app``); this module only
    reads the members from headers and names headers in its errors.
    """
    call = AppCall(
        _members(headers),
        client_ip,
        now_ms if now_ms is not None else int(time.time() * 1000),
        subject=subject,
        field_names=HEADERS,
        client_cert=client_cert,
    )
    return callers.authenticate_app(call, AppCaller())


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
