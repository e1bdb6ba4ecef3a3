"""Code 3008: QC closes a period, new versions of its records are refused until it is reopened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mapping_kit import Hospital, admit
from typer.testing import CliRunner

from facade.app import create_app
from facade.cli.main import app as cli
from facade.db import Database
from facade.errors import Conflict, NotFound
from facade.mapping.values import parse_offset
from facade.native.client import VteXClient
from facade.periods import close_period, list_periods, reopen_period
from facade.settings import Settings, ensure_secrets

DATA = Path(__file__).parents[1] / "mapping" / "data"
ZONE = parse_offset("+08:00")


def golden(case: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / case / "record.json").read_text(encoding="utf-8"))
    return {**record, **changes}


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[tuple[VteXClient, Hospital]]:
    quiet = ensure_secrets(settings).model_copy(update={"forward_enabled": False})
    hospital = admit(quiet, database)
    with TestClient(create_app(quiet, database=database)) as http:
        yield hospital.client(http), hospital


def upload(client: VteXClient, service: str, batch: str, record: dict[str, Any]) -> tuple[str, str]:
    reply = client.upload(service, batch, [record])
    assert reply.code == "0" and reply.payload is not None
    result = reply.payload["results"][0]
    return result["status"], result["code"]


def shut(database: Database, label: str, org: str | None = None) -> None:
    with database.session() as session:
        close_period(session, label, ZONE, by="qc-li", reason="审核完成", org_code=org)


def test_corrections_and_late_records_of_a_closed_quarter_get_3008_until_reopened(
    site: tuple[VteXClient, Hospital], database: Database
) -> None:
    client, hospital = site
    case = golden("case-discharged", orgCode=hospital.org_code)  # discharged 2026-01-19
    assert upload(client, "VTE.CASE.UPLOAD", "B1", case) == ("SUCCESS", "0")
    shut(database, "2026-Q1")

    corrected = {**case, "recordVersion": "2", "dischargeDateTime": "2026-01-20 10:00:00"}
    status, code = upload(client, "VTE.CASE.UPLOAD", "B2", corrected)
    assert (status, code) == ("FAILED", "3008")
    reply = client.upload("VTE.CASE.UPLOAD", "B2b", [corrected])
    assert "2026-Q1" in reply.payload["results"][0]["errors"][0]["msg"]  # type: ignore[index]
    # An assessment of that stay is in the stay's period, even as a first report.
    assert upload(client, "VTE.RISK.UPLOAD", "B3", golden("vte-risk-caprini")) == ("FAILED", "3008")
    # Moving the discharge out of the closed quarter would change it too.
    moved = {**corrected, "dischargeDateTime": "2026-04-02 10:00:00"}
    assert upload(client, "VTE.CASE.UPLOAD", "B4", moved) == ("FAILED", "3008")
    # Re-sending what is already stored stays an idempotent duplicate.
    assert upload(client, "VTE.CASE.UPLOAD", "B5", case) == ("DUPLICATE", "0")
    # Stays of an open quarter, and stays not yet discharged, are not locked.
    april = {
        **case,
        "recordId": "ZY-APRIL",
        "admissionDateTime": "2026-03-30 09:00:00",
        "dischargeDateTime": "2026-04-01 00:00:00",
    }
    assert upload(client, "VTE.CASE.UPLOAD", "B6", april) == ("SUCCESS", "0")
    # 2026-03-31 23:59:59 local time is still the first quarter (+08:00, not UTC).
    edge = {**april, "recordId": "ZY-EDGE", "dischargeDateTime": "2026-03-31 23:59:59"}
    assert upload(client, "VTE.CASE.UPLOAD", "B7", edge) == ("FAILED", "3008")

    with database.session() as session:
        reopen_period(session, "2026-Q1", ZONE, by="qc-li")
    assert upload(client, "VTE.CASE.UPLOAD", "B8", corrected) == ("SUCCESS", "0")
    assert upload(client, "VTE.RISK.UPLOAD", "B9", golden("vte-risk-caprini")) == ("SUCCESS", "0")


def test_a_closure_for_one_institution_locks_only_its_records(
    site: tuple[VteXClient, Hospital], database: Database
) -> None:
    client, hospital = site
    case = golden("case-discharged", orgCode=hospital.org_code)
    assert upload(client, "VTE.CASE.UPLOAD", "B1", case) == ("SUCCESS", "0")
    shut(database, "2026-01", org="12330100000000000X")  # someone else's January
    second = {**case, "recordVersion": "2"}
    assert upload(client, "VTE.CASE.UPLOAD", "B2", second) == ("SUCCESS", "0")
    shut(database, "2026-01", org=hospital.org_code)
    third = {**case, "recordVersion": "3"}
    assert upload(client, "VTE.CASE.UPLOAD", "B3", third) == ("FAILED", "3008")


def test_close_reopen_rules_and_the_command_line(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shut(database, "2026-q1")  # labels are normalised
    with pytest.raises(Conflict):
        shut(database, "2026-Q1")
    with database.session() as session, pytest.raises(NotFound):
        reopen_period(session, "2026-Q2", ZONE, by="qc")
    monkeypatch.setenv("VTE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VTE_VAR_DIR", str(settings.var_dir))
    runner = CliRunner()
    done = runner.invoke(cli, ["period", "reopen", "2026-Q1", "--by", "qc-wang", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "reopened"
    again = runner.invoke(cli, ["period", "close", "2026-Q1", "--reason", "复核完成", "--json"])
    assert again.exit_code == 0, again.output
    twice = runner.invoke(cli, ["period", "close", "2026-Q1", "--json"])
    assert twice.exit_code == 1 and "already closed" in twice.output
    listed = runner.invoke(cli, ["period", "list", "--history", "--json"])
    rows = json.loads(listed.output)
    assert [(r["label"], r["status"]) for r in rows] == [
        ("2026-Q1", "closed"),
        ("2026-Q1", "reopened"),
    ]
    with database.session() as session:
        [current] = list_periods(session)
    assert current.start.startswith("2025-12-31T16:00:00")  # 2026-01-01 00:00 +08:00 in UTC
