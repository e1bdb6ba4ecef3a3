"""``vte-facade submissions ...``: batches, receipts by status, imports, a past error workbook.

The database is filled through the real native gateway (dictionary processor, forwarder off, so
records stay ACCEPTED until settled here through the forwarder's own queue) and a real Excel
import; no app secret is needed to list any of it.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
from openpyxl import load_workbook
from submissions_kit import Filled
from typer.testing import CliRunner

from facade.cli.main import app as cli

runner = CliRunner()


def run(*args: str) -> object:
    result = runner.invoke(cli, ["submissions", *args])
    assert result.exit_code == 0, result.output
    return result


def json(*args: str) -> object:
    result = runner.invoke(cli, ["submissions", *args, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_batches_list_gateway_and_excel_batches_with_their_storage(filled: Filled) -> None:
    first = filled.orgs[0]
    batches = json("batches", "--org", first)
    assert isinstance(batches, list)
    by_source = {b["source"] for b in batches}
    assert by_source == {"gateway", "excel"}
    gateway = next(b for b in batches if b["batchNo"] == "B-CASES-1")
    assert (gateway["total"], gateway["successCount"], gateway["failCount"]) == (5, 4, 1)
    assert gateway["storage"] == {"accepted": 2, "stored": 1, "failed": 1}
    assert json("batches", "--org", filled.orgs[1]) == []
    text = run("batches").stdout  # type: ignore[attr-defined]
    for batch in batches:
        assert batch["batchNo"] in text and batch["appId"] in text and batch["orgCode"] in text


def test_receipts_filter_by_status_and_failures_carry_their_reason(filled: Filled) -> None:
    failed = json("receipts", "--status", "FAILED")
    assert isinstance(failed, list)
    stages = {(r["stage"], r["recordId"]) for r in failed}
    assert ("storage", filled.storage_failure) in stages
    intake = [r for r in failed if r["stage"] == "intake"]
    assert intake and all(r["code"] == "3003" and "sex" in r["reason"] for r in intake)
    storage = next(r for r in failed if r["stage"] == "storage")
    assert storage["reason"] == "HAPI: rule vte-enc-2" and storage["receiptId"]
    stored = json("receipts", "--status", "stored")
    assert [r["status"] for r in stored] == ["STORED"]  # type: ignore[union-attr]
    accepted = json("receipts", "--status", "accepted", "--batch", "B-CASES-1")
    assert len(accepted) == 2  # type: ignore[arg-type]
    text = run("receipts", "--status", "failed").stdout  # type: ignore[attr-defined]
    assert storage["receiptId"] in text and "vte-enc-2" in text
    bad = runner.invoke(cli, ["submissions", "receipts", "--status", "lost"])
    assert bad.exit_code == 2 and "accepted, stored, failed" in bad.output


def test_imports_and_a_past_error_workbook_without_the_app_secret(
    filled: Filled, tmp_path: Path
) -> None:
    imports = json("imports")
    assert isinstance(imports, list) and [i["importId"] for i in imports] == [filled.import_id]
    assert imports[0]["failCount"] == 1 and imports[0]["errorWorkbook"]
    out = tmp_path / "errors.xlsx"
    written = json("error-workbook", filled.import_id, "--out", str(out))
    assert written["orgCode"] == filled.orgs[0]  # type: ignore[index]
    book = load_workbook(io.BytesIO(out.read_bytes()))
    assert len(book.sheetnames) >= 2
    assert filled.import_id in run("imports").stdout  # type: ignore[attr-defined]
    missing = runner.invoke(cli, ["submissions", "error-workbook", "nosuchimport"])
    assert missing.exit_code == 1


def test_hospitals_summarise_uploads_receipts_and_backlog(filled: Filled) -> None:
    summary = json("hospitals")
    assert isinstance(summary, dict)
    rows = {h["orgCode"]: h for h in summary["hospitals"]}
    first = rows[filled.orgs[0]]
    assert first["lastUpload"] and first["refused"] >= 1
    assert first["receipts"]["stored"] == 1 and first["receipts"]["failed"] == 1
    assert rows[filled.orgs[1]]["batches"] == 0
    assert summary["backlog"]["accepted"] == first["receipts"]["accepted"] > 0
