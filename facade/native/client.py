"""Reference VTE-X client: builds, signs and encrypts envelopes and verifies replies.

Used by the test-suite and meant for vendors to read or copy::

    client = VteXClient("https://platform.example/vte-x/v1/gateway", app_id="H320100001",
                        org_code="12320000466000000X", secret="<appSecret>", sign_type="HMAC-SM3")
    reply = client.upload("VTE.CASE.UPLOAD", "B20260101001", [{"recordId": "ZY0001", ...}])
    reply.payload["results"]
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from facade.native import strictjson
from facade.native.crypto import (
    EncType,
    decrypt_payload,
    derive_enc_key,
    encrypt_payload,
    envelope_aad,
)
from facade.native.services import BATCH_QUERY, DQ_QUERY, PING, PROTOCOL_VERSION
from facade.native.signing import SignType, compute_sign, sign_matches


class ReplyNotTrusted(Exception):
    """A reply that should be signed is not, or its signature or ciphertext does not verify."""


@dataclass(frozen=True)
class Reply:
    """A verified reply: its members, the decrypted payload (if any) and whether it was signed."""

    members: dict[str, str]
    payload: dict[str, Any] | None
    signed: bool

    @property
    def code(self) -> str:
        """ "0" when the request was processed; otherwise the reason it was refused as a whole."""
        return self.members["code"]


def to_biz(payload: Mapping[str, Any] | str) -> str:
    """Business payload as the compact JSON string that travels in ``bizContent``."""
    return payload if isinstance(payload, str) else orjson.dumps(payload).decode("utf-8")


class VteXClient:
    """One app's connection to the gateway."""

    def __init__(
        self,
        url: str,
        *,
        app_id: str,
        org_code: str,
        secret: str,
        sign_type: SignType | str = SignType.MD5,
        enc_type: EncType | str = EncType.NONE,
        key_version: int | None = None,
        http: httpx.Client | None = None,
        sm2_keys: tuple[bytes, bytes] | None = None,
        platform_sm2_public_key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``sm2_keys`` (the app's own private and public key) and ``platform_sm2_public_key``
        (handed out by the platform) are needed only with ``sign_type="SM2"``."""
        self.url = url
        self.app_id = app_id
        self.org_code = org_code
        self.secret = secret
        self.sign_type = SignType(sign_type)
        self.enc_type = EncType(enc_type)
        self.key_version = key_version
        self.http = http or httpx.Client(timeout=60)
        self.sm2_keys = sm2_keys
        self.platform_sm2_public_key = platform_sm2_public_key
        self.clock = clock  # seconds since the epoch: the envelope timestamp

    def envelope(
        self,
        service_code: str,
        payload: Mapping[str, Any] | str,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
        iv: bytes | None = None,
    ) -> dict[str, str]:
        """A signed (and, if configured, encrypted) request envelope; encrypt first, then sign."""
        members = {
            "appId": self.app_id,
            "orgCode": self.org_code,
            "serviceCode": service_code,
            "version": PROTOCOL_VERSION,
            "timestamp": timestamp or str(int(self.clock() * 1000)),
            "nonce": nonce or uuid.uuid4().hex,
            "signType": self.sign_type.value,
            "encType": self.enc_type.value,
        }
        if self.key_version is not None:
            members["keyVersion"] = str(self.key_version)
        text = to_biz(payload)
        if self.enc_type is EncType.NONE:
            members["bizContent"] = text
        else:
            aad = envelope_aad(self.app_id, members["timestamp"], members["nonce"])
            key = derive_enc_key(self.enc_type, self.secret, self.app_id)
            members["iv"], members["encData"] = encrypt_payload(
                self.enc_type, key, text.encode("utf-8"), aad, iv=iv
            )
        members["sign"] = compute_sign(members, self.secret, self.sign_type, sm2_keys=self.sm2_keys)
        return members

    def post(self, body: bytes | Mapping[str, str], *, path: str | None = None) -> Reply:
        """Send an envelope (or raw bytes) and verify the reply."""
        content = body if isinstance(body, bytes) else orjson.dumps(dict(body))
        response = self.http.post(
            path or self.url,
            content=content,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
        response.raise_for_status()
        return self.verify(response.content)

    def call(self, service_code: str, payload: Mapping[str, Any] | str) -> Reply:
        """Build, send and verify one request."""
        return self.post(self.envelope(service_code, payload))

    def upload(
        self, service_code: str, batch_no: str, records: Sequence[Mapping[str, Any]]
    ) -> Reply:
        """Upload one batch of records."""
        return self.call(service_code, {"batchNo": batch_no, "records": list(records)})

    def query_batch(self, batch_no: str) -> Reply:
        """Fetch a batch's results and the storage status of its receipts."""
        return self.call(BATCH_QUERY, {"batchNo": batch_no})

    def query_quality(self, period: str) -> Reply:
        """Fetch the institution's data-quality report of a period (``2026-Q1``, ``2026-03``, ...)."""
        return self.call(DQ_QUERY, {"period": period})

    def ping(self) -> Reply:
        """Check clock and credentials."""
        return self.call(PING, {})

    def verify(self, body: bytes) -> Reply:
        """Parse a reply; check its sign and decrypt it. Only error replies may come unsigned.

        An unsigned reply means the server could not (or would not) authenticate the request,
        e.g. a wrong secret; its code and ``errors`` still say why.
        """
        members = strictjson.loads(body.decode("utf-8"))
        if not isinstance(members, dict) or not all(isinstance(v, str) for v in members.values()):
            raise ReplyNotTrusted("reply is not an object of strings")
        signed = "sign" in members
        if signed and members.get("signType") not in set(SignType):
            raise ReplyNotTrusted("reply names an unknown signType")
        if signed and not sign_matches(
            members,
            self.secret,
            members["signType"],
            members["sign"],
            sm2_public_key=self.platform_sm2_public_key,
        ):
            raise ReplyNotTrusted("reply sign does not verify")
        if not signed and members.get("code") == "0":
            raise ReplyNotTrusted("a successful reply must be signed")
        text = members.get("bizContent")
        enc = members.get("encType", "NONE")
        if enc != "NONE":
            if not signed:
                raise ReplyNotTrusted("encrypted reply without a sign")
            kind = EncType(enc)
            aad = envelope_aad(members["appId"], members["timestamp"], members["nonce"])
            key = derive_enc_key(kind, self.secret, self.app_id)
            text = decrypt_payload(kind, key, members["iv"], members["encData"], aad).decode(
                "utf-8"
            )
        payload = orjson.loads(text) if text else None
        return Reply(members, payload, signed)
