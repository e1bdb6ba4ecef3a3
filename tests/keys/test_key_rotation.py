"""Master-key rotation: every sealed column re-sealed, resumable, idempotent, and served throughout."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import LargeBinary, select, update

from facade.app import create_app
from facade.console.tables import ConsoleUser
from facade.console.users import TOTP_SECRETS
from facade.db import Base, Database
from facade.excel.imports import ERROR_WORKBOOKS
from facade.excel.tables import ExcelImport
from facade.keys import SEALED_COLUMNS, rotate_master, seal_status
from facade.mapping.facts import FACTS_PURPOSE, FactStore
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.crypto import DecryptionFailed
from facade.native.sealing import APP_SECRETS, RECORD_PAYLOADS, SecretBox
from facade.native.tables import IntakeBatch, IntakeRecord
from facade.quality.recorder import FACTS_PURPOSE as QUALITY_FACTS
from facade.quality.tables import DqRecord
from facade.settings import Settings, ensure_secrets

ORG = "12320100MB0000001M"


def _with_keys(settings: Settings, master: str, previous: str | None = None) -> Settings:
    return settings.model_copy(
        update={
            "master_key": SecretStr(master),
            "previous_master_key": SecretStr(previous) if previous else None,
        }
    )


def _populate(old: Settings, database: Database, records: int) -> dict[str, Any]:
    """One row in every sealed column (several intake records), all under the old master key."""
    with database.session() as session:
        orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="org-1")
        issued = credentials.issue_app(
            session, SecretBox.for_purpose(old, APP_SECRETS), ORG, name="HIS"
        )
        session.add(
            IntakeBatch(
                id="b1",
                app_id=issued.app_id,
                org_code=ORG,
                service_code="VTE.CASE.UPLOAD",
                batch_no="B1",
                payload_digest="d",
                reply_biz="{}",
                total=records,
                success_count=records,
                fail_count=0,
            )
        )
        session.flush()
        payloads = SecretBox.for_purpose(old, RECORD_PAYLOADS)
        for n in range(records):
            session.add(
                IntakeRecord(
                    receipt_id=f"R{n}",
                    batch_id="b1",
                    record_index=n,
                    app_id=issued.app_id,
                    org_code=ORG,
                    service_code="VTE.CASE.UPLOAD",
                    record_id=f"ZY{n}",
                    record_version=1,
                    status="accepted",
                    payload_digest=f"p{n}",
                    attempts=0,
                    payload_sealed=payloads.seal(f'{{"n":{n}}}'.encode(), f"R{n}"),
                )
            )
        session.add(
            ExcelImport(
                id="imp1",
                app_id=issued.app_id,
                org_code=ORG,
                source="cli",
                file_digest="f",
                template_version="1",
                status="PARTIAL",
                total=1,
                success_count=0,
                duplicate_count=0,
                fail_count=1,
                error_count=1,
                summary="{}",
                error_workbook_sealed=SecretBox.for_purpose(old, ERROR_WORKBOOKS).seal(
                    b"xlsx bytes", "imp1"
                ),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        session.add(
            DqRecord(
                org_code=ORG,
                record_type="case",
                record_key="ZY0",
                own="[]",
                refusal="[]",
                applied="[]",
                facts_sealed=SecretBox.for_purpose(old, QUALITY_FACTS).seal(
                    b'{"adm":"2026-01-02"}', f"{ORG}|case|ZY0"
                ),
            )
        )
        user = ConsoleUser(username="qc1", display_name="QC", role="qc", password_hash="x")
        session.add(user)
        session.flush()
        user.totp_sealed = SecretBox.for_purpose(old, TOTP_SECRETS).seal(
            b"JBSWY3DPEHPK3PXP", f"console-user|{user.id}"
        )
    FactStore(database, SecretBox.for_purpose(old, FACTS_PURPOSE)).remember(
        ORG, "case", "ZY0", "digest0", {"dischargeDateTime": "2026-01-09T10:00:00"}
    )
    return {"app": issued, "records": records}


def _open_everything(settings: Settings, database: Database, data: dict[str, Any]) -> None:
    """Read every sealed value back through the product's own readers (raises if a key is missing)."""
    with database.session() as session:
        secret = credentials.load_secret(
            session, SecretBox.for_purpose(settings, APP_SECRETS), data["app"].app_id, 1
        )
        assert secret == data["app"].secret
        box = SecretBox.for_purpose(settings, RECORD_PAYLOADS)
        for receipt, blob in session.execute(
            select(IntakeRecord.receipt_id, IntakeRecord.payload_sealed).where(
                IntakeRecord.payload_sealed.is_not(None)
            )
        ):
            assert box.open(blob, receipt).startswith(b'{"n":')
        workbook = session.scalar(select(ExcelImport.error_workbook_sealed))
        assert SecretBox.for_purpose(settings, ERROR_WORKBOOKS).open(workbook, "imp1")
        dq = session.scalar(select(DqRecord.facts_sealed))
        assert SecretBox.for_purpose(settings, QUALITY_FACTS).open(dq, f"{ORG}|case|ZY0")
        user_id, totp = session.execute(select(ConsoleUser.id, ConsoleUser.totp_sealed)).one()
        box = SecretBox.for_purpose(settings, TOTP_SECRETS)
        assert box.open(totp, f"console-user|{user_id}") == b"JBSWY3DPEHPK3PXP"
    facts = FactStore(database, SecretBox.for_purpose(settings, FACTS_PURPOSE))
    assert facts.read(ORG, "case", "ZY0", "digest0") == {"dischargeDateTime": "2026-01-09T10:00:00"}


def test_every_binary_column_is_a_sealed_column_the_rotation_knows() -> None:
    """Binary columns hold sealed blobs; one the rotation does not list would stop opening once
    the previous master key is removed (as the data-quality facts and TOTP secrets once did)."""
    binary = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    assert binary == {c.name for c in SEALED_COLUMNS}


def test_rotation_reseals_every_column_resumably_and_the_gateway_serves_throughout(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key = secrets.token_hex(32), secrets.token_hex(32)
    old = _with_keys(ensure_secrets(settings), old_key)
    data = _populate(old, database, records=5)
    rotating = _with_keys(old, new_key, previous=old_key)

    before = seal_status(rotating, database)
    assert {name: c.resealed for name, c in before.columns.items()} == {
        "native_app_key.secret_sealed": 1,
        "intake_record.payload_sealed": 5,
        "mapping_fact.facts_sealed": 1,
        "excel_import.error_workbook_sealed": 1,
        "dq_record.facts_sealed": 1,
        "console_user.totp_sealed": 1,
    }

    # No downtime: with both keys configured, the gateway verifies the app's old-sealed secret.
    app = data["app"]
    with TestClient(create_app(rotating, database=database, record_processor=None)) as http:
        client = VteXClient(
            "/vte-x/v1/gateway",
            app_id=app.app_id,
            org_code=app.org_code,
            secret=app.secret,
            http=http,
        )
        assert client.ping().code == "0"

    # Interrupted after three re-seals (batches of one row): what was written stays written.
    real = SecretBox.reseal
    calls = {"n": 0}

    def crash_after_three(self: SecretBox, blob: bytes, aad: str) -> bytes | None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(self, blob, aad)

    monkeypatch.setattr(SecretBox, "reseal", crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        rotate_master(rotating, database, batch_size=1)
    monkeypatch.setattr(SecretBox, "reseal", real)
    midway = seal_status(rotating, database)
    assert sum(c.current for c in midway.columns.values()) == 3

    # A forwarder wipes a payload while the rotation runs: it must stay wiped.
    def wipe_then_reseal(self: SecretBox, blob: bytes, aad: str) -> bytes | None:
        if aad == "R4":
            with database.session() as session:
                session.execute(
                    update(IntakeRecord)
                    .where(IntakeRecord.receipt_id == "R4")
                    .values(payload_sealed=None)
                )
        return real(self, blob, aad)

    monkeypatch.setattr(SecretBox, "reseal", wipe_then_reseal)
    resumed = rotate_master(rotating, database, batch_size=2)
    monkeypatch.setattr(SecretBox, "reseal", real)
    assert resumed.columns["intake_record.payload_sealed"].skipped == 1
    with database.session() as session:
        assert (
            session.scalar(
                select(IntakeRecord.payload_sealed).where(IntakeRecord.receipt_id == "R4")
            )
            is None
        )

    again = rotate_master(rotating, database)
    assert again.complete and sum(c.resealed for c in again.columns.values()) == 0
    assert sum(c.current for c in again.columns.values()) == 9  # 10 blobs, one wiped

    # The old key can go now; it no longer opens anything that is stored.
    _open_everything(_with_keys(old, new_key), database, data)
    with pytest.raises(DecryptionFailed):
        _open_everything(old, database, data)


def test_a_blob_no_key_opens_is_counted_and_left_alone(
    settings: Settings, database: Database
) -> None:
    stray_key = secrets.token_hex(32)
    stray = _with_keys(ensure_secrets(settings), stray_key)
    _populate(stray, database, records=1)
    report = rotate_master(
        _with_keys(stray, secrets.token_hex(32), secrets.token_hex(32)), database
    )
    assert not report.complete
    assert report.columns["intake_record.payload_sealed"].unreadable == 1
    _open_everything(stray, database, {"app": _issued(stray, database)})


def _issued(settings: Settings, database: Database) -> Any:
    with database.session() as session:
        app_id = credentials.list_apps(session)[0].app_id
        secret = credentials.load_secret(
            session, SecretBox.for_purpose(settings, APP_SECRETS), app_id, 1
        )
    return type("Issued", (), {"app_id": app_id, "secret": secret})()
