"""Reply envelopes: same string-field layout and signing rule as requests, encrypted if the request was (§2.9)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from facade.errors import Issue
from facade.native.codes import MESSAGES, Code
from facade.native.crypto import EncType, derive_enc_key, encrypt_payload, envelope_aad
from facade.native.signing import compute_sign

# Members in the order a reply is written (signing sorts them itself).
ORDER = (
    "code",
    "msg",
    "appId",
    "requestNonce",
    "timestamp",
    "nonce",
    "signType",
    "encType",
    "bizContent",
    "encData",
    "iv",
    "sign",
)


@dataclass(frozen=True)
class ReplyKey:
    """How to sign (and maybe encrypt) a reply: only known once the request's signature checked out."""

    app_id: str
    secret: str
    sign_type: str
    enc_type: EncType
    # signType=SM2: the platform's (private, public) key pair that signs the reply.
    sm2_keys: tuple[bytes, bytes] | None = None


def biz_text(payload: Mapping[str, Any]) -> str:
    """A reply payload as compact JSON with Chinese left unescaped (the form the reply sign covers)."""
    return orjson.dumps(payload).decode("utf-8")


def issue_entries(issues: list[Issue]) -> list[dict[str, str]]:
    """Issues as reply entries: the member or path at fault, its code and the rule it broke."""
    return [{"field": i.location, "code": i.native_code, "msg": i.message} for i in issues]


def build_reply(
    code: Code | str,
    *,
    now_ms: int,
    msg: str | None = None,
    app_id: str = "",
    request_nonce: str = "",
    biz: str | None = None,
    key: ReplyKey | None = None,
    encrypt: bool = False,
    nonce: str | None = None,
) -> dict[str, str]:
    """The reply members; signed when ``key`` is given, ``bizContent`` encrypted when ``encrypt`` too.

    Replies to requests whose signature was not verified are unsigned: signing them would hand
    anyone a MAC over text of their choosing. ``encrypt`` applies only to a verified request
    that used an ``encType``; error details stay readable so a vendor can diagnose key problems.
    """
    members: dict[str, str] = {
        "code": str(code),
        "msg": msg if msg is not None else MESSAGES[Code(str(code))],
        "appId": app_id,
        "requestNonce": request_nonce,
        "timestamp": str(now_ms),
        "nonce": nonce or uuid.uuid4().hex,
    }
    if key is not None:
        enc_type = key.enc_type if encrypt else EncType.NONE
        members["signType"] = key.sign_type
        members["encType"] = enc_type.value
        if biz is not None and enc_type is not EncType.NONE:
            aad = envelope_aad(key.app_id, members["timestamp"], members["nonce"])
            enc_key = derive_enc_key(enc_type, key.secret, key.app_id)
            members["iv"], members["encData"] = encrypt_payload(
                enc_type, enc_key, biz.encode("utf-8"), aad
            )
        elif biz is not None:
            members["bizContent"] = biz
    elif biz is not None:
        members["bizContent"] = biz
    members = {name: members[name] for name in ORDER if members.get(name)}
    if key is not None:
        members["sign"] = compute_sign(members, key.secret, key.sign_type, sm2_keys=key.sm2_keys)
    return members
