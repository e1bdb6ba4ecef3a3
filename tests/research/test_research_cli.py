"""``vte-facade research`` and ``vte-facade omop vocab load``: the lifecycle from the command line,
checked and audited as over HTTP (no HAPI needed until an extraction runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smart_kit import register
from sqlalchemy import select
from test_omop_vocab import write_vocabulary
from typer.testing import CliRunner

from facade.audit.tables import AuditRecord
from facade.cli.main import app
from facade.db import Database

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("VTE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    db.upgrade()
    return db


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_submit_decide_revoke_from_the_command_line(database: Database, tmp_path: Path) -> None:
    researcher = register(database, "researcher").client_id
    steward = register(database, "admin", scopes="system/Organization.rs").client_id
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "project": "HA-VTE after surgery",
                "purpose": "Timing of prophylaxis after surgery and HA-VTE.",
                "ethicsApproval": "IRB-7",
                "period": "2026",
                "cohort": {
                    "indicator": "C1",
                    "population": "numerator",
                    "criteria": [{"kind": "surgical"}],
                },
                "variables": ["stay.admitted", "stay.discharged", "operation.icd9cm3"],
            }
        )
    )
    submitted = _run("research", "submit", str(request), "--as", researcher)
    assert submitted["state"] == "submitted"
    # a researcher cannot decide; a steward narrows to fewer variables
    refused = runner.invoke(
        app,
        [
            "research",
            "decide",
            submitted["id"],
            "--as",
            researcher,
            "--decision",
            "approve",
            "--reason",
            "mine",
            "--json",
        ],
    )
    assert refused.exit_code == 1 and "steward" in refused.output
    narrowed = _run(
        "research",
        "decide",
        submitted["id"],
        "--as",
        steward,
        "--decision",
        "narrow",
        "--reason",
        "operations are not needed",
        "--variable",
        "stay.admitted",
        "--variable",
        "stay.discharged",
    )
    assert narrowed["state"] == "narrowed" and narrowed["grant"]["variables"] == [
        "stay.admitted",
        "stay.discharged",
    ]
    widened = runner.invoke(
        app,
        [
            "research",
            "decide",
            submitted["id"],
            "--as",
            steward,
            "--decision",
            "approve",
            "--reason",
            "again",
            "--json",
        ],
    )
    assert widened.exit_code == 1 and "only a submitted request" in widened.output
    revoked = _run(
        "research", "revoke", submitted["id"], "--as", steward, "--reason", "study stopped"
    )
    assert [t["to"] for t in revoked["transitions"]] == ["submitted", "narrowed", "revoked"]
    listed = _run("research", "requests", "--as", researcher)
    assert [r["state"] for r in listed] == ["revoked"]
    other = register(database, "researcher").client_id
    assert _run("research", "requests", "--as", other) == []
    with database.session() as session:
        audited = [
            json.loads(r.body)["agent"][0]["altId"] for r in session.scalars(select(AuditRecord))
        ]
    assert audited.count(steward) == 3 and audited.count(researcher) == 2  # the refusal too


def test_unknown_variables_and_bad_periods_are_refused(database: Database, tmp_path: Path) -> None:
    researcher = register(database, "researcher").client_id
    request = tmp_path / "bad.json"
    body = {
        "project": "x" * 5,
        "purpose": "y" * 12,
        "ethicsApproval": "IRB",
        "period": "2026-Q5",
        "cohort": {},
        "variables": ["stay.admitted"],
    }
    request.write_text(json.dumps(body))
    result = runner.invoke(app, ["research", "submit", str(request), "--as", researcher, "--json"])
    assert result.exit_code == 1 and "2026-Q5" in result.output
    request.write_text(json.dumps({**body, "period": "2026", "variables": ["stay.name"]}))
    result = runner.invoke(app, ["research", "submit", str(request), "--as", researcher, "--json"])
    assert result.exit_code == 1 and "stay.name" in result.output


def test_vocabulary_load_from_the_command_line(database: Database, tmp_path: Path) -> None:
    loaded = _run("omop", "vocab", "load", str(write_vocabulary(tmp_path / "athena")))
    assert loaded["concepts"] == 9 and loaded["mappings"] == 4
