"""The HTTP side: signed upload, JSON summary, the error workbook by import id, refusals with VTE-X codes."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator

import pytest
from excel_helpers import Registered, fill, register, stored_counts, valid_case
from excel_processor import production
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from facade.app import create_app
from facade.db import Database
from facade.dictionary.loader import Dictionary
from facade.excel.auth import signed_headers
from facade.native import credentials
from facade.native.intake import sm3_hex
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.services import services_of
from facade.settings import Settings

CASE = "住院病例"
IMPORT = "/vte-x/v1/excel/import"


@pytest.fixture
def app_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    processor = production(settings, database)
    with TestClient(create_app(settings, database=database, record_processor=processor)) as client:
        yield client


def _upload_headers(registered: Registered, data: bytes, **kwargs: str) -> dict[str, str]:
    headers = signed_headers(
        app_id=registered.app_id,
        org_code=registered.org_code,
        secret=registered.secret,
        subject={"fileDigest": sm3_hex(data)},
        **kwargs,  # type: ignore[arg-type]
    )
    return {
        **headers,
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def _workbook(template: bytes, registered: Registered) -> bytes:
    cases = [valid_case(n, registered.org_code) for n in range(1, 31)]
    cases[4]["sex"] = "Q"
    cases[9]["patientId"] = "=1+1"
    return fill(template, {CASE: cases})


def test_signed_upload_answers_a_summary_and_serves_the_error_workbook(
    app_client: TestClient, registered: Registered, template: bytes
) -> None:
    data = _workbook(template, registered)
    response = app_client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["total"], summary["successCount"], summary["failCount"]) == (30, 28, 2)
    assert {(e["row"], e["code"]) for e in summary["errors"]} == {(7, "3003"), (12, "3002")}
    assert summary["fileDigest"] == sm3_hex(data)
    href = summary["errorWorkbook"]["href"]
    import_id = summary["importId"]
    assert href.endswith(f"/vte-x/v1/excel/imports/{import_id}/errors")
    path = f"/vte-x/v1/excel/imports/{import_id}/errors"
    download = signed_headers(
        app_id=registered.app_id,
        org_code=registered.org_code,
        secret=registered.secret,
        subject={"importId": import_id},
    )
    got = app_client.get(path, headers=download)
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    book = load_workbook(io.BytesIO(got.content))
    assert book["错误清单"].max_row == 3
    again = app_client.get(
        f"/vte-x/v1/excel/imports/{import_id}",
        headers=signed_headers(
            app_id=registered.app_id,
            org_code=registered.org_code,
            secret=registered.secret,
            subject={"importId": import_id},
        ),
    )
    assert again.status_code == 200 and again.json()["importId"] == import_id


def test_another_institution_cannot_fetch_the_error_workbook(
    app_client: TestClient,
    registered: Registered,
    template: bytes,
    settings: Settings,
    database: Database,
) -> None:
    data = _workbook(template, registered)
    import_id = app_client.post(
        IMPORT, content=data, headers=_upload_headers(registered, data)
    ).json()["importId"]
    other = register(settings, database)
    headers = signed_headers(
        app_id=other.app_id,
        org_code=other.org_code,
        secret=other.secret,
        subject={"importId": import_id},
    )
    response = app_client.get(f"/vte-x/v1/excel/imports/{import_id}/errors", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "3006"


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        ("body", 401, "1005"),  # the signature covers the file digest
        ("secret", 401, "1005"),
        ("old-timestamp", 401, "1006"),
        ("missing-sign", 400, "1001"),
        ("unknown-app", 401, "1002"),
    ],
)
def test_bad_credentials_are_refused_and_nothing_is_stored(
    app_client: TestClient,
    registered: Registered,
    template: bytes,
    database: Database,
    tamper: str,
    status: int,
    code: str,
) -> None:
    data = _workbook(template, registered)
    headers = _upload_headers(registered, data)
    body = data
    if tamper == "body":
        body = data[:100] + bytes([data[100] ^ 1]) + data[101:]
    elif tamper == "secret":
        headers = _upload_headers(
            Registered(registered.org_code, registered.app_id, "0" * 64), data
        )
    elif tamper == "old-timestamp":
        headers = _upload_headers(registered, data, now_ms=int(time.time() * 1000) - 3_600_000)  # type: ignore[arg-type]
    elif tamper == "missing-sign":
        del headers["X-VTE-Sign"]
    elif tamper == "unknown-app":
        headers["X-VTE-AppId"] = "NOSUCHAPP"
    response = app_client.post(IMPORT, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert stored_counts(database) == (0, 0)


def test_a_replayed_request_is_refused(
    app_client: TestClient, registered: Registered, template: bytes
) -> None:
    data = _workbook(template, registered)
    headers = _upload_headers(registered, data)
    assert app_client.post(IMPORT, content=data, headers=headers).status_code == 200
    replayed = app_client.post(IMPORT, content=data, headers=headers)
    assert replayed.status_code == 401 and replayed.json()["code"] == "1007"


def test_an_oversized_file_is_refused_before_parsing(
    settings: Settings, database: Database, dictionary: Dictionary, registered: Registered
) -> None:
    small = settings.model_copy(update={"excel_max_file_bytes": 4096})
    processor = production(settings, database)
    data = b"PK\x03\x04" + b"\0" * 5000
    with TestClient(create_app(small, database=database, record_processor=processor)) as client:
        response = client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert response.status_code == 413
    assert response.json()["code"] == "2005"


def test_a_file_level_fault_names_the_rule(
    app_client: TestClient, registered: Registered, database: Database
) -> None:
    data = b"not a workbook at all"
    response = app_client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "3002"
    assert body["errors"][0]["field"] == "file"
    assert stored_counts(database) == (0, 0)


def test_without_a_record_processor_the_import_answers_5001(
    settings: Settings, database: Database, registered: Registered, template: bytes
) -> None:
    data = _workbook(template, registered)
    with TestClient(create_app(settings, database=database, record_processor=None)) as client:
        response = client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert response.status_code == 503 and response.json()["code"] == "5001"


def test_a_disabled_institution_cannot_upload_until_enabled_again(
    app_client: TestClient, registered: Registered, template: bytes, database: Database
) -> None:
    institutions = services_of(app_client.app).institutions  # type: ignore[arg-type]
    institutions.set_status(registered.org_code, active=False)
    data = _workbook(template, registered)
    refused = app_client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "1003"
    assert refused.json()["errors"][0]["field"] == "X-VTE-OrgCode"
    assert stored_counts(database) == (0, 0)
    institutions.set_status(registered.org_code, active=True)
    accepted = app_client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert accepted.status_code == 200, accepted.text


def test_during_a_rotation_the_previous_secret_still_signs_uploads(
    app_client: TestClient,
    registered: Registered,
    template: bytes,
    settings: Settings,
    database: Database,
) -> None:
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    with database.session() as session:
        new = credentials.rotate_key(session, box, registered.app_id)
    data = fill(template, {CASE: [valid_case(n, registered.org_code) for n in (1, 2)]})
    old = registered
    rotated = Registered(old.org_code, old.app_id, new.secret)

    def post(who: Registered, **kwargs: str) -> tuple[int, str]:
        response = app_client.post(
            IMPORT, content=data, headers=_upload_headers(who, data, **kwargs)
        )
        return response.status_code, str(response.json().get("code", "0"))

    assert post(old) == (200, "0")  # no keyVersion: the current key, then the previous one
    assert post(old, key_version="2") == (401, "1005")  # keyVersion selects the key
    assert post(old, key_version="1") == (200, "0")
    assert post(rotated) == (200, "0")
    with database.session() as session:
        credentials.complete_rotation(session, old.app_id)
    assert post(old) == (401, "1005")
    assert post(rotated) == (200, "0")


def test_multipart_upload_and_a_replay_said_to_be_one(
    app_client: TestClient, registered: Registered, template: bytes, database: Database
) -> None:
    data = fill(template, {CASE: [valid_case(n, registered.org_code) for n in (1, 2, 3)]})
    headers = _upload_headers(registered, data)
    del headers["Content-Type"]  # the form sets its own, with the boundary
    form = {"file": ("医院上报.xlsx", data, "application/octet-stream")}
    first = app_client.post(IMPORT, files=form, headers=headers)
    assert first.status_code == 200, first.text
    summary = first.json()
    assert (summary["successCount"], summary["replayed"]) == (3, False)
    # nothing reached the FHIR server yet (no forwarder in this app): all three wait
    assert summary["storage"] == {
        "accepted": 3,
        "stored": 0,
        "failed": 0,
        "firstStoredAt": None,
        "storedAt": None,
    }
    again = app_client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
    assert again.status_code == 200
    replay = again.json()
    assert replay["replayed"] is True and replay["importId"] == summary["importId"]
    assert replay["firstReceivedAt"] == summary["firstReceivedAt"]
    assert stored_counts(database)[1] == 3
    # a form without the file part is refused, naming the part
    refused = app_client.post(
        IMPORT, files={"other": ("x.xlsx", data, "application/octet-stream")}, headers=headers
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "file"


def test_an_accepted_import_rings_the_forwarders_doorbell(
    settings: Settings, database: Database, registered: Registered, template: bytes
) -> None:
    """The forwarder of the importing process claims the workbook's records at once instead of at
    its next idle poll (its loop is off here, so the ring waits to be answered)."""
    held = settings.model_copy(update={"forward_enabled": False})
    with TestClient(create_app(held, database=database)) as client:
        forwarder = services_of(client.app).forwarder  # type: ignore[arg-type]
        assert forwarder is not None

        def rung() -> bool:
            return asyncio.run(forwarder.doorbell.wait(asyncio.Event(), 0))

        assert not rung()
        data = _workbook(template, registered)
        response = client.post(IMPORT, content=data, headers=_upload_headers(registered, data))
        assert response.status_code == 200, response.text
        assert response.json()["successCount"] == 28
    assert rung()
