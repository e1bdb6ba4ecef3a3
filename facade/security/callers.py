"""Who is calling, for which admitted institution, with which rights: the one check of every door.

* VTE-X gateway and Excel upload (requests signed with an app's secret): ``authenticate_app``
  runs native-protocol.md §2.6 steps 3–7 (app → institution → source address, sign type, time
  window, signature, rate, nonce) and refuses with the VTE-X code of the first failed step.
* Operator commands acting for an app (``vte-facade import-excel --app``): ``app``.
* FHIR door: ``token_client`` at the token endpoint, ``principal`` on every request.
* Client registration (``ClientRegistry.register``) asks the same InstitutionRegistry.

A caller acting for an institution that was never admitted, or is disabled, is refused on every
door: 1003 on the native side, ``invalid_client`` at the token endpoint, 403 on FHIR requests.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from facade.db import Database
from facade.errors import Forbidden, Issue, NotFound
from facade.native import replay, sm2
from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess, check_sign, load_access
from facade.native.mtls import check_client_certificate
from facade.native.ratelimit import take_token
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.native.signing import SignType
from facade.security.clients import ClientInfo, ClientRegistry
from facade.security.institutions import InstitutionRegistry
from facade.security.roles import Role, policy
from facade.security.tokens import Principal, TokenService, invalid_client
from facade.settings import Settings

_TIMESTAMP = re.compile(r"[0-9]{13}")
PURGE_EVERY_MS = 60_000
_MAX_CALLERS = 10_000  # live tokens cached per process; the cache starts over when full


class InstitutionRefused(Forbidden):
    """The caller acts for an institution that is not admitted or is disabled."""


@dataclass(frozen=True)
class AppCall:
    """A request signed with an app's secret, as one door received it.

    ``members`` are the signed members including ``sign`` (the gateway's envelope; the Excel
    routes' ``X-VTE-*`` headers by member name); ``subject`` holds members signed but not sent as
    such (Excel: ``fileDigest`` or ``importId``); ``field_names`` says how a door names a member
    in its errors (Excel: the header name).
    """

    members: Mapping[str, str]
    client_ip: str
    now_ms: int
    subject: Mapping[str, str] = field(default_factory=dict)
    field_names: Mapping[str, str] = field(default_factory=dict)
    enc_type: str | None = None  # the gateway's encType; None where nothing is encrypted
    client_cert: bytes | None = None  # DER, as verified by our TLS proxy (facade/native/mtls.py)
    # When the request arrived, if it then waited for its turn: the timestamp window is checked
    # against it, so a wait on our side is not blamed on the caller's clock (1006).
    received_ms: int | None = None

    def get(self, name: str) -> str:
        """A member's value ("" when absent)."""
        return self.members.get(name, "")

    def field(self, name: str) -> str:
        """The name this door reports a member under."""
        return self.field_names.get(name, name)


@dataclass
class AppCaller:
    """How far an app's request got through the checks: the gateway signs and audits by it."""

    access: AppAccess | None = None
    secret: str | None = None  # set once the signature verified
    key_version: int = 0
    sm2_keys: tuple[bytes, bytes] | None = None  # signType=SM2: the platform pair signing replies


class CallerCheck:
    """The caller check of every door, over one institution registry."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        institutions: InstitutionRegistry,
        tokens: TokenService,
    ) -> None:
        self.settings = settings
        self.database = database
        self.institutions = institutions
        self.tokens = tokens
        self.secrets = SecretBox.for_purpose(settings, APP_SECRETS)
        # signType=SM2: the platform's key pair that signs replies (None: SM2 is refused, 1004).
        self.platform_sm2 = sm2.platform_keys(settings)
        self._last_purge_ms = 0
        self._purge_lock = threading.Lock()
        # token -> (reuse until (monotonic), registry generations when checked, principal)
        self._callers: dict[str, tuple[float, tuple[int, int], Principal]] = {}

    @classmethod
    def for_database(cls, settings: Settings, database: Database) -> CallerCheck:
        """A check for a process without the app's services (operator commands); no cache."""
        institutions = InstitutionRegistry(database, ttl_seconds=0)
        tokens = TokenService(settings, ClientRegistry(database, institutions))
        return cls(settings, database, institutions, tokens)

    # -- every door -----------------------------------------------------------------------------

    def require_institution(self, role: Role, org_code: str | None) -> None:
        """Refuse (InstitutionRefused) a role that acts for one institution unless it is active."""
        if not policy(role).needs_org:
            return
        reason = self.institutions.refusal(org_code)
        if reason is not None:
            issue = Issue("", "admitted-institution", reason, "forbidden", "1003")
            raise InstitutionRefused(reason, issues=[issue])

    # -- VTE-X: gateway and Excel upload --------------------------------------------------------

    def authenticate_app(self, call: AppCall, into: AppCaller) -> AppAccess:
        """Steps 3–7 of §2.6 in order; ``into`` records the progress even when a step refuses."""
        access = self._bind(call)
        into.access = access
        check_client_certificate(access, call.client_cert)  # step 3, mTLS (1012)
        self._check_modes(call, access)
        self._check_timestamp(call)
        into.secret, into.key_version = self._verify_sign(call, access)
        if call.get("signType") == SignType.SM2:
            into.sm2_keys = self.platform_sm2
        self._admit(call, access)
        return access

    def app(self, app_id: str) -> AppAccess:
        """An app an operator acts for (no signature): it must be active, its institution too."""
        with self.database.session() as session:
            access = load_access(session, app_id)
        if access is None:
            raise NotFound(f"app {app_id} does not exist")
        if not access.active:
            raise Forbidden(f"app {app_id} is revoked")
        self.require_institution(Role.HOSPITAL, access.org_code)
        return access

    def _bind(self, call: AppCall) -> AppAccess:
        with self.database.session() as session:
            access = load_access(session, call.get("appId"))
        if access is None or not access.active or not access.key_versions:
            raise reject(Code.UNKNOWN_APP, field=call.field("appId"))
        if access.org_code != call.get("orgCode"):
            raise reject(
                Code.ORG_NOT_AUTHORISED, "该 appId 未绑定此 orgCode", field=call.field("orgCode")
            )
        try:
            self.require_institution(Role.HOSPITAL, access.org_code)
        except InstitutionRefused as exc:
            raise reject(
                Code.ORG_NOT_AUTHORISED, "机构未准入或已停用", field=call.field("orgCode")
            ) from exc
        if not access.allows_ip(call.client_ip):
            raise reject(Code.IP_NOT_ALLOWED)
        return access

    def _check_modes(self, call: AppCall, access: AppAccess) -> None:
        # The app's lists hold only values validated when it was issued, so they also reject unknown ones.
        if call.get("signType") not in access.sign_types:
            allowed = "、".join(sorted(access.sign_types))
            raise reject(
                Code.SIGN_TYPE_NOT_ALLOWED, f"该应用允许：{allowed}", field=call.field("signType")
            )
        if call.get("signType") == SignType.SM2 and self.platform_sm2 is None:
            raise reject(
                Code.SIGN_TYPE_NOT_ALLOWED, "平台未配置 SM2 签名密钥", field=call.field("signType")
            )
        if call.enc_type is not None and call.enc_type not in access.enc_types:
            allowed = "、".join(sorted(access.enc_types))
            raise reject(
                Code.ENC_TYPE_NOT_ALLOWED, f"该应用允许：{allowed}", field=call.field("encType")
            )

    def _check_timestamp(self, call: AppCall) -> None:
        window = self.settings.native_timestamp_window_seconds
        stamp = call.get("timestamp")
        if not _TIMESTAMP.fullmatch(stamp):
            raise reject(
                Code.BAD_TIMESTAMP, "须为 13 位 Unix 毫秒时间戳", field=call.field("timestamp")
            )
        arrived = call.now_ms if call.received_ms is None else call.received_ms
        if abs(arrived - int(stamp)) > window * 1000:
            raise reject(
                Code.BAD_TIMESTAMP,
                f"与服务器时间相差超过 {window} 秒",
                field=call.field("timestamp"),
            )

    def _verify_sign(self, call: AppCall, access: AppAccess) -> tuple[str, int]:
        """The secret and key version the sign verifies with (``check_sign``: the version the
        call names, else the current key and then the previous one during a rotation)."""
        with self.database.session() as session:
            check = check_sign(
                session,
                self.secrets,
                access,
                {**call.members, **call.subject},
                key_version=call.get("keyVersion"),
                sign_type=call.get("signType"),
                sign=call.get("sign"),
            )
        if not check.version_active:
            raise reject(
                Code.BAD_SIGNATURE, "keyVersion 无效或已停用", field=call.field("keyVersion")
            )
        if check.secret is None or check.key_version is None:
            covers = f"（含 {'、'.join(call.subject)}）" if call.subject else ""
            raise reject(
                Code.BAD_SIGNATURE,
                f"请用 sign-debug 核对待签名串{covers}、密钥与编码",
                field=call.field("sign"),
            )
        return check.secret, check.key_version

    def _admit(self, call: AppCall, access: AppAccess) -> None:
        """Rate limit (after the signature, so nobody can spend another app's quota), then the nonce.

        Both in one transaction: a replay refused with 1007 gives its token back, and a request
        refused with 1009 leaves its nonce unused so the identical request may be retried.
        """
        settings = self.settings
        with self.database.session() as session:
            if not take_token(
                session,
                access.app_id,
                now_ms=call.now_ms,
                rate=settings.native_rate_per_second,
                burst=settings.native_rate_burst,
            ):
                raise reject(
                    Code.RATE_LIMITED,
                    f"每秒 {settings.native_rate_per_second:g} 次，突发 {settings.native_rate_burst} 次",
                )
            if not replay.claim_nonce(
                session,
                access.app_id,
                call.get("nonce"),
                now_ms=call.now_ms,
                ttl_seconds=settings.native_nonce_ttl_seconds,
            ):
                raise reject(
                    Code.REPLAYED_NONCE, "请为每次请求生成新的 nonce", field=call.field("nonce")
                )
        with self._purge_lock:
            due = call.now_ms - self._last_purge_ms >= PURGE_EVERY_MS
            if due:
                self._last_purge_ms = call.now_ms
        if due:
            with self.database.session() as session:
                replay.purge_expired(session, now_ms=call.now_ms)

    # -- FHIR door ------------------------------------------------------------------------------

    def token_client(self, assertion: str) -> ClientInfo:
        """The client a token request authenticates as; OAuthError(invalid_client) if refused."""
        client = self.tokens.authenticate_client(assertion)
        try:
            self.require_institution(client.role, client.org_code)
        except InstitutionRefused as exc:
            raise invalid_client(exc.message, client.client_id) from exc
        return client

    def principal(self, token: str) -> Principal:
        """The caller of a FHIR request: a valid token of an enabled client, institution active.

        A caller found good is reused for ``caller_cache_seconds``, never past the token's expiry
        nor past the institution status it was checked against (``institution_cache_seconds``),
        and not after this process changed a client or an institution. So a client disabled
        anywhere is refused within ``caller_cache_seconds``, an institution within
        ``institution_cache_seconds``, as before the cache.
        """
        cached = self.cached_principal(token)
        if cached is not None:
            return cached
        generations = self._generations()
        principal = self.tokens.verify(token)
        self.require_institution(principal.role, principal.org_code)
        ttl = min(self.settings.caller_cache_seconds, principal.expires_at - time.time())
        if principal.org_code is not None and policy(principal.role).needs_org:
            fresh = self.institutions.fresh_for(principal.org_code)
            ttl = min(ttl, fresh) if fresh > 0 else ttl
        if ttl > 0:
            until = time.monotonic() + ttl
            if len(self._callers) >= _MAX_CALLERS:
                self._callers.clear()
            self._callers[token] = (until, generations, principal)
        return principal

    def cached_principal(self, token: str) -> Principal | None:
        """The caller of ``token`` if it was checked recently (no I/O: safe on the event loop)."""
        hit = self._callers.get(token)
        if hit is None:
            return None
        until, generations, principal = hit
        if until <= time.monotonic() or generations != self._generations():
            self._callers.pop(token, None)
            return None
        return principal

    def _generations(self) -> tuple[int, int]:
        return self.institutions.generation, self.tokens.registry.generation
