"""Property: malformed envelopes never crash the gateway; every reply is a valid reply with a spec code."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings as hypothesis_settings, strategies as st
from native_helpers import GATEWAY, Registered, client_for, register, stored_counts
from native_stub import StubProcessor

from facade.app import create_app
from facade.db import Database
from facade.native.client import VteXClient
from facade.native.codes import Code
from facade.native.envelope import MEMBERS
from facade.native.signing import compute_sign
from facade.settings import Settings, ensure_secrets

SPEC_CODES = {code.value for code in Code}
# Envelopes per run: 5,000 in CI with a fixed seed; `python -m bench fuzz` raises it.
EXAMPLES = int(os.environ.get("VTE_NATIVE_FUZZ_EXAMPLES", "5000"))
SEED = int(os.environ.get("VTE_FUZZ_SEED", "15"))
SERVICES = ["VTE.CASE.UPLOAD", "VTE.ASSESS.UPLOAD", "VTE.BATCH.QUERY", "VTE.PING", "VTE.X", ""]


class Harness:
    """One app, database and registered app for the whole fuzz run (examples share them)."""

    def __init__(self, http: TestClient, database: Database, registered: Registered) -> None:
        self.http = http
        self.database = database
        self.app = registered
        self.client = client_for(registered, http)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    base: Path = tmp_path_factory.mktemp("fuzz")
    settings = ensure_secrets(
        Settings(
            environment="test",
            var_dir=base,
            database_url=f"sqlite:///{base / 'facade.db'}",
            native_rate_per_second=0,  # the limiter would answer 1009 to most examples
            native_max_body_bytes=64 * 1024,
            native_max_records_per_batch=4,  # small, so the fuzz also meets 2004
        )
    )
    database = Database(settings.database_url)
    database.upgrade()
    registered = register(settings, database)
    processor = StubProcessor(settings.secret("pseudonym_key"))
    with TestClient(create_app(settings, database=database, record_processor=processor)) as http:
        yield Harness(http, database, registered)
    database.dispose()


json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(sorted(MEMBERS)) | st.text(max_size=12)
records = st.lists(
    st.dictionaries(
        st.sampled_from(
            ["recordId", "recordVersion", "riskLevel", "admissionTime", "idNumber", "x"]
        )
        | st.text(max_size=6),
        json_values,
        max_size=6,
    ).filter(lambda r: "explode" not in r)
    | json_values,
    max_size=5,
)
biz_contents = (
    st.text(max_size=80)
    | st.builds(
        lambda b, r: json.dumps({"batchNo": b, "records": r}, ensure_ascii=False),
        st.text(max_size=10) | st.just("B1"),
        records,
    )
    | json_values.map(lambda v: json.dumps(v, ensure_ascii=False))
)


@lru_cache
def _signing_client(app: tuple[str, str, str], sign_type: str, enc_type: str) -> VteXClient:
    # One client per mode: building one loads the TLS trust store, which would dominate the run.
    app_id, org_code, secret = app
    return VteXClient(
        GATEWAY,
        app_id=app_id,
        org_code=org_code,
        secret=secret,
        sign_type=sign_type,
        enc_type=enc_type,
    )


@st.composite
def deep_envelopes(draw: st.DrawFn, harness_app: tuple[str, str, str]) -> bytes:
    """Correctly signed (and maybe encrypted) envelopes with odd payloads: they reach steps 8-11."""
    sign_type = draw(st.sampled_from(["MD5", "HMAC-SHA256", "HMAC-SM3"]))
    enc_type = draw(st.sampled_from(["NONE", "NONE", "SM4-GCM", "AES-256-GCM"]))
    client = _signing_client(harness_app, sign_type, enc_type)
    service = draw(
        st.sampled_from(["VTE.CASE.UPLOAD", "VTE.ASSESS.UPLOAD", "VTE.BATCH.QUERY", "VTE.PING"])
    )
    batch_no = draw(st.sampled_from(["B1", "B2", "B3"]) | st.text(max_size=8))
    payload = draw(
        st.builds(
            lambda r: json.dumps({"batchNo": batch_no, "records": r}, ensure_ascii=False), records
        )
        | st.just(json.dumps({"batchNo": batch_no}))
        | biz_contents
    )
    return orjson.dumps(client.envelope(service, payload))


@st.composite
def broken_envelopes(draw: st.DrawFn, harness_app: tuple[str, str, str]) -> bytes:
    """A signed envelope broken in one or more ways, sometimes re-signed so later steps are reached."""
    app_id, org_code, secret = harness_app
    members: dict[str, Any] = {
        "appId": app_id,
        "orgCode": org_code,
        "serviceCode": draw(st.sampled_from(SERVICES)),
        "version": draw(st.sampled_from(["1.0", "1.0", "2.0", ""])),
        "timestamp": str(
            int(time.time() * 1000) + draw(st.sampled_from([0, 0, 0, -400_000, 10**6]))
        ),
        "nonce": uuid.uuid4().hex,
        "signType": draw(st.sampled_from(["MD5", "HMAC-SHA256", "HMAC-SM3", "SHA1", ""])),
        "encType": draw(st.sampled_from(["NONE", "NONE", "SM4-GCM", "AES-256-GCM", "RC4"])),
        "bizContent": draw(biz_contents),
    }
    if members["encType"] != "NONE" and draw(st.booleans()):
        members["encData"], members["iv"] = draw(st.text(max_size=40)), draw(st.text(max_size=20))
        members.pop("bizContent")
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["drop", "retype", "retext", "add"]))
        name = draw(field_names)
        if action == "drop":
            members.pop(name, None)
        elif action == "retype":
            members[name] = draw(json_values)
        elif action == "retext":
            members[name] = draw(st.text(max_size=30))
        else:
            members[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    strings = {k: v for k, v in members.items() if isinstance(v, str)}
    if draw(st.booleans()) and isinstance(members.get("signType"), str):
        try:
            members["sign"] = compute_sign(strings, secret, members["signType"])
        except ValueError:  # an unknown signType cannot be computed; send junk instead
            members["sign"] = draw(st.text(max_size=64))
    else:
        members["sign"] = draw(st.text(max_size=64))
    raw = json.dumps(members, ensure_ascii=False).encode("utf-8", "surrogatepass")
    tail = draw(st.sampled_from(["none", "none", "truncate", "duplicate", "junk"]))
    if tail == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif tail == "duplicate":
        raw = raw[:-1] + b',"sign":"' + b"A" * 32 + b'"}'
    elif tail == "junk":
        raw = draw(st.binary(max_size=200))
    return raw


def test_thousands_of_malformed_envelopes_get_well_formed_replies(harness: Harness) -> None:
    seen: set[str] = set()
    counts = [stored_counts(harness.database)]
    app = (harness.app.app_id, harness.app.org_code, harness.app.secret)
    strategy = deep_envelopes(app) | broken_envelopes(app)

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @seed(SEED)
    @given(raw=strategy)
    def check(raw: bytes) -> None:
        before = counts[0]
        response = harness.http.post(GATEWAY, content=raw)
        assert response.status_code == 200
        reply = harness.client.verify(response.content)  # parses, checks the sign if there is one
        code = reply.code
        assert code in SPEC_CODES and code != Code.INTERNAL_ERROR.value, reply.members
        assert reply.members["msg"] and len(reply.members["timestamp"]) == 13
        counts[0] = stored_counts(harness.database)
        if code != "0":
            assert counts[0] == before  # a refused request stores nothing
        seen.add(code)

    check()
    # The run must have reached the deep steps (storage, limits, idempotency), not only the parser.
    assert {"1001", "2003", "0", "2004", "2006"} <= seen, seen
