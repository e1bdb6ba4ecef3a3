"""``vte-facade submissions hospitals|batches|receipts|imports|error-workbook``: what hospitals sent.

Read-only views for operators; no app secret is needed. Identifiers are printed whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings
from facade.cli.wide import id_table, print_wide
from facade.errors import FacadeError
from facade.submissions.service import Submissions, parse_status

app = typer.Typer(
    help="What hospitals sent and what became of it (batches, receipts, Excel imports).",
    no_args_is_help=True,
)
OrgOption = typer.Option(None, help="Only this institution (orgCode); default: every institution.")
LimitOption = typer.Option(100, min=1, max=100_000, help="At most this many rows, newest first.")
DaysOption = typer.Option(30, min=1, max=3660, help="Look back this many days.")


def _service(json: bool) -> Submissions:
    return Submissions(settings(), open_database(json))


@app.command()
def hospitals(
    org: str | None = OrgOption, days: int = DaysOption, json: JsonOption = False
) -> None:
    """Per institution: last upload and import, batches and records in the window, receipts, backlog."""
    service = _service(json)
    data = {"hospitals": service.hospitals(org, days=days), "backlog": service.backlog()}

    def human(d: dict[str, Any]) -> None:
        table = id_table(
            "orgCode",
            others=(
                "last upload",
                "last import",
                f"batches/{days}d",
                "records",
                "refused",
                "accepted",
                "stored",
                "failed",
            ),
            wrap=("name",),
        )
        for row in d["hospitals"]:
            r = row["receipts"]
            table.add_row(
                row["orgCode"],
                row["lastUpload"] or "-",
                row["lastImport"] or "-",
                str(row["batches"]),
                str(row["records"]),
                str(row["refused"]),
                str(r["accepted"]),
                str(r["stored"]),
                str(r["failed"]),
                row["name"],
            )
        print_wide(table)
        backlog = d["backlog"]
        console.print(
            f"forwarder backlog: {backlog['accepted']} record(s) accepted, not stored yet"
            + (f" (oldest {backlog['oldest']})" if backlog["oldest"] else "")
        )

    emit(data, json, human)


@app.command()
def batches(
    org: str | None = OrgOption,
    days: int | None = typer.Option(None, min=1, help="Only batches of the last N days."),
    service: str | None = typer.Option(None, help="Only this serviceCode, e.g. VTE.CASE.UPLOAD."),
    limit: int = LimitOption,
    json: JsonOption = False,
) -> None:
    """Upload batches with their records' storage states, newest first."""
    current = _service(json)
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    rows = [
        b.as_dict(current.tz)
        for b in current.batches(org, since=since, service=service, limit=limit)
    ]

    def human(data: list[dict[str, Any]]) -> None:
        table = id_table(
            "batchNo",
            "appId",
            "orgCode",
            "serviceCode",
            others=("source", "received", "total", "ok", "refused", "accepted", "stored", "failed"),
        )
        for row in data:
            s = row["storage"]
            table.add_row(
                row["batchNo"],
                row["appId"],
                row["orgCode"],
                row["serviceCode"],
                row["source"],
                row["receivedAt"],
                str(row["total"]),
                str(row["successCount"]),
                str(row["failCount"]),
                str(s["accepted"]),
                str(s["stored"]),
                str(s["failed"]),
            )
        print_wide(table)

    emit(rows, json, human)


@app.command()
def receipts(
    org: str | None = OrgOption,
    status: str | None = typer.Option(
        None, help="accepted, stored or failed (failed: refused at intake or by the FHIR server)."
    ),
    batch: str | None = typer.Option(None, help="Only records of this batchNo."),
    limit: int = LimitOption,
    json: JsonOption = False,
) -> None:
    """Records with their receipt status; failures with the rule or reason."""
    current = _service(json)
    try:
        wanted = parse_status(status)
    except FacadeError as exc:
        raise fail(exc, json, code=2) from exc
    rows = [
        r.as_dict(current.tz)
        for r in current.records(org, status=wanted, batch_no=batch, limit=limit)
    ]

    def human(data: list[dict[str, Any]]) -> None:
        table = id_table(
            "recordId",
            "receiptId",
            "batchNo",
            "orgCode",
            others=("ver", "service", "status", "stage", "received", "stored"),
            wrap=("reason",),
        )
        for row in data:
            table.add_row(
                row["recordId"],
                row["receiptId"] or "-",
                row["batchNo"],
                row["orgCode"],
                str(row["recordVersion"] or "-"),
                row["serviceCode"],
                row["status"],
                row["stage"],
                row["receivedAt"],
                row["storedAt"] or "-",
                " ".join(p for p in (row["code"], row["reason"]) if p) or "",
            )
        print_wide(table)

    emit(rows, json, human)


@app.command()
def imports(
    org: str | None = OrgOption, limit: int = LimitOption, json: JsonOption = False
) -> None:
    """Excel imports with their counts and whether the error workbook can still be fetched."""
    current = _service(json)
    rows = [i.as_dict(current.tz) for i in current.imports(org, limit=limit)]

    def human(data: list[dict[str, Any]]) -> None:
        table = id_table(
            "importId",
            "appId",
            "orgCode",
            others=(
                "imported",
                "status",
                "total",
                "ok",
                "dup",
                "failed",
                "errors",
                "error workbook until",
            ),
        )
        for row in data:
            book = row["errorWorkbook"]
            table.add_row(
                row["importId"],
                row["appId"],
                row["orgCode"],
                row["importedAt"],
                row["status"],
                str(row["total"]),
                str(row["successCount"]),
                str(row["duplicateCount"]),
                str(row["failCount"]),
                str(row["errorCount"]),
                book["expiresAt"] if book else "-",
            )
        print_wide(table)

    emit(rows, json, human)


@app.command("error-workbook")
def error_workbook(
    import_id: str = typer.Argument(..., help="importId from `submissions imports`."),
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the .xlsx (default: errors-<importId>.xlsx here)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Write a past import's error workbook (while it has not expired)."""
    current = _service(json)
    org = current.import_org(import_id)
    if org is None:
        raise fail(f"no import {import_id}", json)
    try:
        data = current.error_workbook(import_id, org)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    target = out or Path(f"errors-{import_id}.xlsx")
    target.write_bytes(data)
    emit(
        {"importId": import_id, "orgCode": org, "path": str(target), "bytes": len(data)},
        json,
        lambda d: console.print(f"error workbook of {d['importId']} written to {d['path']}"),
    )
