"""The VTE-X gateway pipeline: verification in the order of native-protocol.md §2.6, then the service.

Steps 3–7 (who is calling, for which admitted institution) are the one caller check of every door,
``facade.security.callers``; the gateway adds the envelope, decryption, services and receipts.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from facade.db import Database
from facade.errors import ProtocolRejected
from facade.logs import request_id
from facade.native.audit import AuditHook, NativeAuditEvent, no_audit
from facade.native.batch import parse_biz, parse_query, parse_upload, prepare_record
from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess
from facade.native.crypto import (
    DecryptionFailed,
    EncType,
    decrypt_payload,
    derive_enc_key,
    envelope_aad,
)
from facade.native.envelope import Envelope, parse_envelope, safe_echo
from facade.native.intake import IntakeStore, sm3_hex
from facade.native.processor import IntakeContext, RecordProcessor
from facade.native.receipts import batch_view
from facade.native.reply import ReplyKey, biz_text, build_reply, issue_entries
from facade.native.sealing import RECORD_PAYLOADS, SecretBox
from facade.native.services import (
    BATCH_QUERY,
    PING,
    PROTOCOL_SERVICES,
    PROTOCOL_VERSION,
    SERVICE_CODE,
    QueryService,
)
from facade.quality.recorder import QualityRecorder
from facade.security.callers import AppCall, AppCaller, CallerCheck
from facade.settings import Settings

log = logging.getLogger("facade.native")


@dataclass
class Inbound:
    """A request as the HTTP layer hands it over; ``raw`` is None when the body exceeded the limit."""

    raw: bytes | None
    client_ip: str
    path_service: str | None = None
    client_cert: bytes | None = None  # DER, as verified by our TLS proxy (facade/native/mtls.py)
    received_ms: int | None = None  # when it arrived, before waiting for its turn (gateway clock)


@dataclass
class _Exchange:
    """What the pipeline has established so far: it decides how the reply is signed and audited."""

    now_ms: int
    received_ms: int
    envelope: Envelope | None = None
    caller: AppCaller = field(default_factory=AppCaller)
    batch_no: str = ""
    counts: tuple[int, int, int] = (0, 0, 0)
    echo: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> ReplyKey | None:
        """How the reply is signed (and encrypted): known once the request's signature verified."""
        if self.envelope is None or self.caller.secret is None:
            return None
        return ReplyKey(
            self.envelope.app_id,
            self.caller.secret,
            self.envelope.get("signType"),
            EncType(self.envelope.get("encType")),
            self.caller.sm2_keys,
        )


class Gateway:
    """Verifies requests, runs the services, and always answers with a reply envelope.

    ``processor`` validates and prepares upload records (None: uploads answer 5001); ``audit``
    is called once per request, whatever its outcome; ``queries`` answer query services such as
    ``VTE.DQ.QUERY``; ``clock`` (seconds since the epoch) lets tests replay a schedule;
    ``accepted`` is called after each upload batch has committed (the forwarder's doorbell).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        callers: CallerCheck,
        *,
        processor: RecordProcessor | None = None,
        audit: AuditHook = no_audit,
        queries: Mapping[str, QueryService] | None = None,
        clock: Callable[[], float] = time.time,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.callers = callers
        self.processor = processor
        self.audit = audit
        self.queries = dict(queries or {})
        self.clock = clock
        self.store = IntakeStore(
            database,
            SecretBox.for_purpose(settings, RECORD_PAYLOADS),
            QualityRecorder.for_settings(settings),
            accepted=accepted,
        )

    def now_ms(self) -> int:
        """The gateway's clock in Unix milliseconds."""
        return int(self.clock() * 1000)

    def handle(self, inbound: Inbound) -> dict[str, str]:
        """Answer one request; never raises. Every failure becomes a reply with its spec code."""
        started = time.perf_counter()
        now_ms = self.now_ms()
        received = inbound.received_ms if inbound.received_ms is not None else now_ms
        exchange = _Exchange(now_ms=now_ms, received_ms=received)
        msg: str | None = None
        biz: str | None
        try:
            code, biz = self._process(exchange, inbound, self.processor)
        except ProtocolRejected as rejected:
            code, msg = rejected.code, rejected.message
            biz = _error_biz(rejected, exchange)
        except Exception as exc:  # the contract is "always a reply"; the cause goes to the log
            log.error(
                "native gateway failed: %s",
                type(exc).__name__,
                extra={"traceback": "".join(traceback.format_tb(exc.__traceback__))},
            )
            code, msg, biz = Code.INTERNAL_ERROR.value, None, None
        reply = build_reply(
            code,
            now_ms=self.now_ms(),
            msg=msg,
            app_id=exchange.echo.get("appId", ""),
            request_nonce=exchange.echo.get("nonce", ""),
            biz=biz,
            key=exchange.key,
            encrypt=code == Code.OK.value,
        )
        self._audit(exchange, inbound, code, started)
        return reply

    # -- §2.6, step by step -------------------------------------------------------------------

    def _process(
        self, x: _Exchange, inbound: Inbound, processor: RecordProcessor | None
    ) -> tuple[str, str]:
        if inbound.raw is None:  # step 1
            raise reject(
                Code.BODY_TOO_LARGE, f"请求体不得超过 {self.settings.native_max_body_bytes} 字节"
            )
        envelope = parse_envelope(inbound.raw)  # step 2
        x.envelope = envelope
        x.echo = {
            "appId": safe_echo("appId", envelope.app_id),
            "nonce": safe_echo("nonce", envelope.nonce),
        }
        window = self.settings.native_timestamp_window_seconds
        if x.now_ms - x.received_ms > window * 1000:
            # Past this a replay of it could outlive the original's nonce (settings: ttl >= 3 windows).
            raise reject(
                Code.UNAVAILABLE,
                f"请求排队超过 {window} 秒未处理，请用新的 timestamp 和 nonce 重新签名后重试",
            )
        call = AppCall(
            envelope.members,
            inbound.client_ip,
            x.now_ms,
            enc_type=envelope.get("encType"),
            client_cert=inbound.client_cert,
            received_ms=x.received_ms,
        )
        access = self.callers.authenticate_app(call, x.caller)  # steps 3-7
        key = x.key
        if key is None:  # authenticate_app returns only once the signature verified
            raise RuntimeError("signature verified but no reply key")
        plaintext = self._decrypt(envelope, key)  # step 8
        service = self._service(envelope, access, inbound.path_service, processor)  # step 9
        document = parse_biz(plaintext)
        query = self.queries.get(service)
        if query is not None:
            return Code.OK.value, biz_text(dict(query(envelope.org_code, document)))
        if service == PING:
            return Code.OK.value, biz_text(
                {
                    "serverTime": str(self.now_ms()),
                    "orgCode": envelope.org_code,
                    "keyVersion": str(x.caller.key_version),
                }
            )
        if service == BATCH_QUERY:
            x.batch_no = parse_query(document)
            view = batch_view(self.database, envelope.app_id, x.batch_no)
            if view is None:
                raise reject(
                    Code.REFERENCE_MISSING, "该 appId 下没有此 batchNo", field="bizContent.batchNo"
                )
            x.counts = (view["total"], view["successCount"], view["failCount"])
            return Code.OK.value, biz_text(view)
        return self._upload(x, envelope, document, plaintext, _installed(processor))

    @staticmethod
    def _decrypt(envelope: Envelope, key: ReplyKey) -> str:
        if key.enc_type is EncType.NONE:
            return envelope.get("bizContent")
        aad = envelope_aad(envelope.app_id, envelope.timestamp, envelope.nonce)
        enc_key = derive_enc_key(key.enc_type, key.secret, key.app_id)
        try:
            plaintext = decrypt_payload(
                key.enc_type, enc_key, envelope.get("iv"), envelope.get("encData"), aad
            )
        except DecryptionFailed as exc:
            raise reject(Code.DECRYPTION_FAILED, field="encData") from exc
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise reject(Code.BAD_BIZ_CONTENT, "解密结果不是 UTF-8 文本", field="encData") from exc

    def _service(
        self,
        envelope: Envelope,
        access: AppAccess,
        path_service: str | None,
        processor: RecordProcessor | None,
    ) -> str:
        service = envelope.service_code
        own = service in PROTOCOL_SERVICES or service in self.queries
        if not own and service not in _installed(processor).service_codes:
            raise reject(Code.UNKNOWN_SERVICE, field="serviceCode")
        if path_service is not None and path_service != service:
            raise reject(Code.UNKNOWN_SERVICE, "serviceCode 与请求路径不一致", field="serviceCode")
        if envelope.get("version") != PROTOCOL_VERSION:
            raise reject(
                Code.UNSUPPORTED_VERSION, f"当前仅支持 {PROTOCOL_VERSION}", field="version"
            )
        if not access.allows_service(service):
            raise reject(Code.ORG_NOT_AUTHORISED, "该应用未获授权调用此服务", field="serviceCode")
        return service

    def _upload(
        self,
        x: _Exchange,
        envelope: Envelope,
        document: dict[str, Any],
        plaintext: str,
        processor: RecordProcessor,
    ) -> tuple[str, str]:
        batch = parse_upload(document, self.settings.native_max_records_per_batch)
        x.batch_no = batch.batch_no
        digest = sm3_hex(plaintext.encode("utf-8"))
        stored = self.store.stored_reply(envelope.app_id, batch.batch_no, digest)  # step 10
        if stored is None:
            context = IntakeContext(
                envelope.app_id, envelope.org_code, envelope.service_code, batch.batch_no
            )
            max_bytes = self.settings.native_max_record_bytes
            with processor.one_batch(context, batch.records):
                checks = [
                    prepare_record(processor, context, index, record, max_bytes)
                    for index, record in enumerate(batch.records)
                ]
            stored = self.store.store(context, digest, checks, received_ms=x.now_ms)  # step 11
        summary = orjson.loads(stored)
        x.counts = (summary["total"], summary["successCount"], summary["failCount"])
        return Code.OK.value, stored

    def _audit(self, x: _Exchange, inbound: Inbound, code: str, started: float) -> None:
        envelope = x.envelope
        event = NativeAuditEvent(
            request_id=request_id.get(),
            occurred_ms=x.now_ms,
            source_ip=inbound.client_ip,
            app_id=x.echo.get("appId", ""),
            org_code=x.caller.access.org_code if x.caller.access else "",
            service_code=envelope.service_code
            if envelope and SERVICE_CODE.fullmatch(envelope.service_code)
            else "",
            nonce=x.echo.get("nonce", ""),
            sign_type=x.key.sign_type if x.key else "",
            enc_type=x.key.enc_type.value if x.key else "",
            signature_verified=x.key is not None,
            code=code,
            batch_no=x.batch_no,
            total=x.counts[0],
            success_count=x.counts[1],
            fail_count=x.counts[2],
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        try:
            self.audit(event)
        except Exception:  # an audit failure must be loud but cannot un-send a committed batch
            log.exception("native audit hook failed")


def _installed(processor: RecordProcessor | None) -> RecordProcessor:
    """The record processor; without one (no dictionary loaded) upload services are unavailable."""
    if processor is None:
        raise reject(Code.UNAVAILABLE, "记录处理组件未配置，请稍后用同一 batchNo 重试")
    return processor


def _error_biz(rejected: ProtocolRejected, x: _Exchange) -> str | None:
    payload: dict[str, Any] = {}
    if rejected.code == Code.BAD_TIMESTAMP.value:
        payload["serverTime"] = str(x.now_ms)
    if rejected.issues:
        payload["errors"] = issue_entries(rejected.issues)
    return biz_text(payload) if payload else None
