"""One typed settings object for the whole facade, read from the environment (prefix ``VTE_``)."""

from __future__ import annotations

import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from facade.errors import ConfigurationError

# The names of the secrets the facade needs. Each is 32 random bytes, hex-encoded.
SECRET_FIELDS = ("master_key", "pseudonym_key", "research_key", "token_signing_key")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _repo_root() -> Path:
    """The project directory holding ``mappings/`` and ``profiles/``.

    In a checkout that is the parent of ``facade/``; an installed package (the Docker image) runs
    from its working directory instead.
    """
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "mappings").is_dir() else Path.cwd()


class Settings(BaseSettings):
    """Everything the facade is configured with; passed in, never read from globals mid-call.

    Every field can be set as ``VTE_<FIELD>`` in the environment or in a ``.env`` file.
    """

    model_config = SettingsConfigDict(
        env_prefix="VTE_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"

    # -- the facade's own HTTP service
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="",
        description="Base URL clients use to reach the facade; derived from host/port when empty.",
    )

    # -- upstream HAPI FHIR server
    fhir_base_url: str = Field(
        default="",
        description="The upstream HAPI's FHIR base; empty: the local HAPI on hapi_port.",
    )
    # A transaction HAPI validates against our profiles can take tens of seconds on a cold,
    # busy 2-core server (measured: >30 s for 200 profiled entries), so reads and writes get 120 s.
    upstream_timeout_seconds: float = 120.0
    upstream_connect_timeout_seconds: float = 5.0
    # HAPI on two cores saturates well below this; more connections only queue inside HAPI.
    upstream_max_connections: int = 16
    # Ask HAPI for gzip answers. Even on loopback this pays: uncompressed, HAPI streams a search
    # page in hundreds of tiny chunks (≈435 for a 20-resource page), and reading them costs the
    # facade ≈1.6 ms of CPU against ≈0.4 ms for the two chunks of the gzip answer (bench/README.md
    # "reads"). Off only for a HAPI that compresses badly.
    upstream_gzip: bool = True
    # zlib level of the facade's own gzip answers (clients that send Accept-Encoding: gzip).
    gzip_level: int = Field(default=1, ge=1, le=9)

    # -- the facade's own database (credentials, receipts, nonces, queue, audit)
    var_dir: Path = Field(default_factory=lambda: _repo_root() / "var")
    database_url: str = ""

    # -- secrets (never in the repository; generated into var/ for development only)
    master_key: SecretStr | None = None
    pseudonym_key: SecretStr | None = None
    research_key: SecretStr | None = None
    token_signing_key: SecretStr | None = None
    # Master-key rotation: a key that still opens what it sealed, never used to seal (README).
    previous_master_key: SecretStr | None = None
    # The platform's SM2 key pair (signType=SM2 replies); optional in production: without it
    # SM2 requests are refused with 1004. Generated in development like the secrets above.
    platform_sm2_key: SecretStr | None = None
    platform_sm2_public_key: str = ""
    # Shared with HAPI (its HAPI_TRUSTED_WRITE_KEY): the forwarder's mapped writes carry it and
    # skip HAPI's write-time profile validation (docker/hapi README, "Trusted writes"). Optional
    # in production (without it every write is validated, about ten times slower); generated in
    # development like the secrets above and handed to the local HAPI by the launcher.
    hapi_trusted_write_key: SecretStr | None = None

    # -- the local HAPI jar managed by ``vte-facade hapi``
    hapi_module_dir: Path = Field(default_factory=lambda: _repo_root() / "docker" / "hapi")
    hapi_port: int = 8080
    # 1 GiB is ~3x the live heap measured after the test suite (docker/hapi/README.md).
    hapi_java_opts: str = "-Xmx1g"
    hapi_start_timeout_seconds: float = 300.0
    hapi_jdbc_url: str = ""
    hapi_jdbc_username: str = ""
    hapi_jdbc_password: SecretStr | None = None

    # -- native VTE-X gateway (limits from native-protocol.md §2.8)
    native_max_records_per_batch: int = 200
    native_max_body_bytes: int = 5 * 1024 * 1024
    native_max_record_bytes: int = 256 * 1024
    # The envelope's timestamp must be this close to the time the request arrived; a request
    # that then waits longer than this for its turn (native_concurrent_requests) is answered 5001.
    native_timestamp_window_seconds: int = Field(default=300, ge=1)
    # How long a nonce is remembered: at least three windows (checked at start-up), since a
    # replay can pass the window check until one window after the timestamp and then wait a
    # window for its turn, and the original may have arrived one window before the timestamp.
    native_nonce_ttl_seconds: int = 900
    # Token bucket per appId, shared by every worker through the database; rate <= 0 switches it off.
    native_rate_per_second: float = 10.0
    native_rate_burst: int = 20
    # Proxies (CIDRs) whose X-Forwarded-For is believed when checking an app's IP allow-list.
    native_trusted_proxies: list[str] = Field(default_factory=list)
    # Gateway requests one process works on at once; the others wait their turn (0: as many as
    # the thread pool, 40). Intake is CPU-bound Python: batches at once only take turns on the
    # GIL, and starve the event loop that feeds the forwarder and serves reads (bench/README.md,
    # "ingest", stop 31).
    native_concurrent_requests: int = Field(default=1, ge=0, le=64)

    # -- institution registry as every door checks it (facade/security/institutions.py): a status
    # is cached this long per process; `org disable` elsewhere takes effect within it (0: no cache)
    institution_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # A verified access token's caller (client enabled, registration unchanged) is reused this
    # long per process (never beyond the token's expiry); disabling a client through this
    # process takes effect at once, elsewhere within this many seconds (0: check every request)
    caller_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    # -- FHIR front door: SMART Backend Services tokens (facade/security)
    access_token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    # SMART caps a client assertion's lifetime at five minutes; leeway absorbs clock drift.
    client_assertion_max_seconds: int = 300
    clock_leeway_seconds: int = 30
    # -- FHIR front door: write and read paths (facade/frontdoor)
    fhir_max_body_bytes: int = 20 * 1024 * 1024
    fhir_max_bundle_entries: int = 1000
    # Intake limits, checked before anything reaches HAPI (frontdoor/limits.py). HAPI's
    # validator cost explodes with extension nesting, and grows with elements per resource
    # (≈0.1-0.3 ms each on 2 cores), so both are bounded; the defaults leave wide room for
    # what our profiles produce (deepest guide example in a Bundle: 15 JSON levels, largest
    # resource: ~500 elements, longest dictionary string: 200 characters).
    fhir_max_json_depth: int = Field(default=32, ge=16, le=64)
    # None: what the StructureDefinitions imply (profiles/fsh-generated/extension-nesting.json).
    fhir_max_extension_nesting: int | None = Field(default=None, ge=1, le=16)
    fhir_max_elements_per_resource: int = Field(default=5_000, ge=500)
    fhir_max_elements_per_request: int = Field(default=100_000, ge=1_000)
    fhir_max_string_length: int = Field(default=65_536, ge=1_024, le=1_048_576)
    # -- audit trail (facade/audit); six months is the legal floor for network logs in China
    audit_retention_days: int = Field(default=180, ge=1)
    # -- research view (mappings/views, facade/privacy): dates move by a secret per-patient offset in
    # [-N, -1] ∪ [1, N] days, so intervals stay exact but calendar dates do not
    research_date_shift_max_days: int = Field(default=50, ge=1, le=3650)
    # -- research data sharing (facade/research): requests, grants, extracts
    # Where extracts are written (one directory per extract); default var/research.
    research_dir: Path | None = None
    # k of k-anonymity on the declared quasi-identifiers (mappings/research/privacy.yaml).
    research_k: int = Field(default=5, ge=2, le=1000)
    # Aggregates (catalogue counts, manifest counts) below this are shown as suppressed.
    research_min_cell: int = Field(default=5, ge=1, le=1000)
    # A grant lasts this long unless the steward says otherwise, and never longer than the max.
    research_grant_days: int = Field(default=90, ge=1)
    research_grant_max_days: int = Field(default=730, ge=1)
    # The in-process extraction worker (off: run `vte-facade research run-extracts`).
    research_worker_enabled: bool = True
    research_worker_idle_seconds: float = Field(default=2.0, gt=0)
    # HAPI $export: how often to poll its status URL and how long to wait for it at most.
    research_export_poll_seconds: float = Field(default=1.0, gt=0)
    research_export_timeout_seconds: float = Field(default=3600.0, gt=0)
    # Resources passed through the research view per call.
    research_view_chunk: int = Field(default=500, ge=1, le=5000)

    # -- Excel fallback (facade/excel; limits from native-protocol.md §4.3)
    excel_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Zip-bomb guard: the sum of the declared uncompressed sizes of the .xlsx members.
    excel_max_uncompressed_bytes: int = Field(default=150 * 1024 * 1024, ge=1024)
    excel_max_rows_per_sheet: int = Field(default=5000, ge=1)
    excel_max_cells: int = Field(default=1_000_000, ge=1)
    # Records per intake batch; the gateway's own cap does not apply to a workbook, chunks keep
    # each transaction (and the progress bar's steps) small.
    excel_batch_size: int = Field(default=500, ge=1, le=5000)
    excel_error_workbook_ttl_hours: int = Field(default=72, ge=1)
    excel_max_errors_in_reply: int = Field(default=500, ge=0)

    # -- data dictionary, code tables, implementation guide (mappings/README.md, profiles/README.md)
    mappings_dir: Path = Field(default_factory=lambda: _repo_root() / "mappings")
    profiles_dir: Path = Field(default_factory=lambda: _repo_root() / "profiles")
    # -- mapping engine and forwarder to HAPI (facade/mapping, facade/forward)
    # Native date-times are local wall-clock times; FHIR gets them with this offset (China: +08:00).
    mapping_utc_offset: str = Field(default="+08:00", pattern=r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")
    # The in-process forwarder started by the app lifespan (off: run `vte-facade forward` instead).
    forward_enabled: bool = True
    # Entries per transaction Bundle: bounded so one HAPI transaction stays short; a single record
    # larger than this still travels whole (its resources must be written atomically).
    forward_bundle_max_entries: int = Field(default=100, ge=1, le=1000)
    forward_claim_size: int = Field(default=100, ge=1, le=1000)
    forward_lease_seconds: float = Field(default=300.0, gt=0)
    forward_idle_seconds: float = Field(default=1.0, gt=0)
    # HAPI unreachable: records stay accepted and come back after base * 2^(attempts-1), capped.
    forward_retry_base_seconds: float = Field(default=2.0, gt=0)
    forward_retry_max_seconds: float = Field(default=300.0, gt=0)
    # While HAPI is down the forwarder asks it this often whether it is back (a read that
    # touches its database), so work resumes within seconds of its return, not after the backoff.
    forward_probe_seconds: float = Field(default=1.0, gt=0, le=30)
    # Transactions in flight at once (records writing the same resource, or linking to one
    # another, are never in flight together; see facade/forward/README.md). HAPI on two cores
    # gains nothing beyond a handful.
    forward_concurrency: int = Field(default=4, ge=1, le=32)
    # Share of stored records whose resources are read back and checked with HAPI's $validate in
    # the background (0 switches it off); a failure raises an alarm (log, metric, forward status).
    forward_validate_sample_rate: float = Field(default=0.01, ge=0, le=1)
    # ... but at most this many resources checked a minute (samples over it are counted as
    # ``over_budget``): HAPI's validator spends ~40 ms per resource, 30x writing it, so during a
    # backfill 1 % of records would add a third to HAPI's work (bench/README.md, "ingest").
    forward_validate_per_minute: int = Field(default=6, ge=1, le=6000)
    # A sample waits while the forwarder is writing, at most this long (0: checked at once): a
    # check amid HAPI's write stream costs HAPI far more than alone (bench/README.md, "ingest").
    forward_validate_max_delay_seconds: float = Field(default=600.0, ge=0, le=86400)

    # -- quality indicators (facade/indicators; definitions in mappings/indicators)
    # Requests in flight to HAPI during one evaluation (counts and pages); HAPI on two cores
    # gains nothing beyond a handful.
    indicator_concurrency: int = Field(default=4, ge=1, le=32)
    # _count of the paged _elements searches (HAPI clamps it to its own maximum page size).
    indicator_page_size: int = Field(default=500, ge=10, le=1000)
    # The join path holds the facts of at most about this many stays at a time (whole hospitals
    # are packed into partitions up to it); memory grows with it, not with the region.
    indicator_partition_stays: int = Field(default=20_000, ge=100)
    # Refresh jobs (console, schedule) keep a per-stay ledger in the facade database and re-read
    # only the people whose records HAPI stored since the last run (facade/indicators/README.md);
    # off: every job recomputes the whole region.
    indicator_incremental: bool = True
    # The ledger's watermark is HAPI's clock minus this margin: a transaction still running when
    # a refresh starts is read again by the next one. Longer than any HAPI transaction.
    indicator_incremental_margin_seconds: float = Field(default=120.0, ge=0, le=86_400)
    # More people touched than this share of the ledger's stays: a full pass is cheaper.
    indicator_incremental_max_share: float = Field(default=0.2, gt=0, le=1)
    # A ledger older than this is seeded again by the next job: a refresh cannot see a dependent
    # resource moved to another stay, nor a corrected regional pseudonym (README there).
    indicator_incremental_reseed_hours: float = Field(default=168.0, gt=0)

    # -- the region the console shows and the scheduler refreshes: institution codes (empty:
    # every registered hospital). A city platform inside a provincial HAPI names its hospitals.
    indicator_region: list[str] = Field(default_factory=list)
    # Daily refresh of the published indicators inside `serve`: local times in the reporting zone
    # ("02:30"), after hospitals' nightly uploads; empty switches the schedule off.
    indicator_refresh_times: list[str] = Field(default_factory=lambda: ["02:30"])
    indicator_refresh_granularity: Literal["month", "quarter", "year"] = "quarter"
    # How many periods a scheduled refresh recomputes: the current one and N-1 before it (late
    # uploads and corrections change last quarter's figures too).
    indicator_refresh_periods: int = Field(default=2, ge=1, le=12)

    # -- the web console for people (facade/console)
    console_enabled: bool = True
    console_language: Literal["zh-CN", "en"] = "zh-CN"
    # 等保 asks for an idle time-out; 15 minutes is the usual figure for administrative consoles.
    console_idle_minutes: int = Field(default=15, ge=1, le=240)
    console_session_hours: float = Field(default=8.0, gt=0, le=24)
    console_max_failed_logins: int = Field(default=5, ge=1, le=100)
    console_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # None: Secure cookies exactly when public_base_url is https (plain http only on loopback).
    console_cookie_secure: bool | None = None
    # Periods shown in a trend (of the scope's granularity, ending at the selected one).
    console_trend_periods: int = Field(default=8, ge=2, le=24)
    # Rows a drill-down or an audit search shows and exports at most.
    console_max_rows: int = Field(default=5000, ge=100, le=100_000)

    # -- the multi-level network, county → city → province (facade/network/README.md)
    # As a child: the parent facade this platform reports to (its public base URL; empty: none).
    uplink_parent_url: str = ""
    # This platform's region: a 6-digit administrative division code (GB/T 2260) and its name.
    uplink_region_code: str = Field(default="", pattern=r"^([0-9]{6})?$")
    uplink_region_name: str = ""
    # The client id the parent registered this platform under (``vte-facade region register``).
    uplink_client_id: str = ""
    # PEM private key (EC P-384, ES384) signing the SMART client assertions sent to the parent;
    # generated into var/dev-secrets.json in development, from the secret store in production.
    uplink_private_key: SecretStr | None = None
    uplink_key_id: str = Field(default="uplink-1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    # Daily local times (reporting zone) at which ``serve`` pushes the recent periods upward,
    # after the indicator refresh; empty: only on demand (``vte-facade uplink push``).
    uplink_push_times: list[str] = Field(default_factory=lambda: ["03:30"])
    # How often the uplink loop looks at its outbox; a failed push waits longer each time, up to
    # the maximum (a parent down for a day is caught up with on the first round after it is back).
    uplink_poll_seconds: float = Field(default=30.0, gt=0)
    uplink_retry_base_seconds: float = Field(default=30.0, gt=0)
    uplink_retry_max_seconds: float = Field(default=3600.0, gt=0)
    uplink_timeout_seconds: float = Field(default=120.0, gt=0)
    # The province linkage key: the same value at every facade of one province (generated at the
    # top, handed down to every child; per machine in development). Key of the province pseudonym.
    linkage_key: SecretStr | None = None
    # As a parent: a hospital enters the benchmark bands only with at least this denominator, and
    # bands computed from fewer hospitals are withheld (small cells).
    network_benchmark_min_denominator: int = Field(default=10, ge=1)
    network_benchmark_min_hospitals: int = Field(default=3, ge=1)

    # -- logging
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'facade.db'}"
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        if not self.fhir_base_url:  # the HAPI `vte-facade hapi start` runs, wherever its port is
            self.fhir_base_url = f"http://127.0.0.1:{self.hapi_port}/fhir"
        self.fhir_base_url = self.fhir_base_url.rstrip("/")
        if self.native_nonce_ttl_seconds < 3 * self.native_timestamp_window_seconds:
            raise ValueError(
                "native_nonce_ttl_seconds must be at least 3 x native_timestamp_window_seconds "
                f"({3 * self.native_timestamp_window_seconds}), or a replay could outlive its nonce"
            )
        for name in ("indicator_refresh_times", "uplink_push_times"):
            for moment in getattr(self, name):
                if not _CLOCK.fullmatch(moment):
                    raise ValueError(f"{name}: {moment!r} is not a local time HH:MM (00:00-23:59)")
        self.uplink_parent_url = self.uplink_parent_url.rstrip("/")
        return self

    @property
    def console_secure_cookies(self) -> bool:
        """Whether console cookies carry ``Secure`` (explicit setting, else: served over https)."""
        if self.console_cookie_secure is not None:
            return self.console_cookie_secure
        return self.public_base_url.startswith("https://")

    @property
    def research_extract_dir(self) -> Path:
        """Where extracts are written (``research_dir`` or ``var/research``)."""
        return self.research_dir or self.var_dir / "research"

    @property
    def hapi_state_dir(self) -> Path:
        """Where the launcher keeps the HAPI pid file, log and embedded database."""
        return self.var_dir / "hapi"

    def uplink_key_pem(self) -> str:
        """The uplink's PEM private key (a PEM text, not hex); raise if it is missing."""
        if self.uplink_private_key is None:
            raise ConfigurationError("secret VTE_UPLINK_PRIVATE_KEY is not configured")
        return self.uplink_private_key.get_secret_value()

    def secret(self, name: str) -> bytes:
        """Return a configured secret as bytes; raise if it is missing."""
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(f"secret VTE_{name.upper()} is not configured")
        return bytes.fromhex(value.get_secret_value())


def ensure_secrets(settings: Settings) -> Settings:
    """Fill missing secrets: from ``var/dev-secrets.json`` outside production, else refuse.

    Development secrets are generated once and kept in the (git-ignored) var directory so that
    pseudonyms stay stable across restarts of a developer's machine.
    """
    missing = [name for name in SECRET_FIELDS if getattr(settings, name) is None]
    network_missing = settings.linkage_key is None or settings.uplink_private_key is None
    if not missing and (not network_missing or settings.environment == "production"):
        return settings
    if missing and settings.environment == "production":
        names = ", ".join(f"VTE_{name.upper()}" for name in missing)
        raise ConfigurationError(f"production requires these secrets in the environment: {names}")
    path = settings.var_dir / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in missing:
        stored.setdefault(name, secrets.token_hex(32))
    update: dict[str, object] = {name: SecretStr(stored[name]) for name in missing}
    if settings.hapi_trusted_write_key is None:
        update["hapi_trusted_write_key"] = SecretStr(
            stored.setdefault("hapi_trusted_write_key", secrets.token_hex(32))
        )
    if settings.platform_sm2_key is None and "platform_sm2_key" not in stored:
        from facade.native import sm2  # late: facade.native imports these settings

        private, public = sm2.generate_keypair()
        stored["platform_sm2_key"], stored["platform_sm2_public_key"] = (
            private.hex(),
            sm2.public_key_hex(public),
        )
    if settings.platform_sm2_key is None:
        update["platform_sm2_key"] = SecretStr(stored["platform_sm2_key"])
        update["platform_sm2_public_key"] = stored["platform_sm2_public_key"]
    # Network keys (facade/network/README.md): optional in production, generated here so a
    # development facade can act as a parent or a child right away.
    if settings.linkage_key is None:
        update["linkage_key"] = SecretStr(stored.setdefault("linkage_key", secrets.token_hex(32)))
    if settings.uplink_private_key is None:
        if "uplink_private_key" not in stored:
            from facade.network.keys import new_assertion_key  # late: keeps settings light

            stored["uplink_private_key"] = new_assertion_key()
        update["uplink_private_key"] = SecretStr(stored["uplink_private_key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return settings.model_copy(update=update)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built once; tests override the FastAPI dependency instead."""
    return ensure_secrets(Settings())
