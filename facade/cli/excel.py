"""``vte-facade import-excel FILE --app APPID`` and ``vte-facade excel template``: the Excel fallback, operator side."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facade.cli.output import (
    JsonOption,
    console,
    emit,
    err_console,
    fail,
    open_database,
    print_table,
    real_console,
    settings,
    table,
)

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from facade.db import Database
    from facade.errors import FacadeError
    from facade.excel.importer import Importer
    from facade.native.processor import RecordProcessor
    from facade.settings import Settings

    ProcessorFactory = Callable[[Settings, Database], RecordProcessor]

app = typer.Typer(
    help="The Excel fallback: import template and workbook imports.", no_args_is_help=True
)
STAGES = {"read": "读取工作表", "validate": "校验记录", "store": "写入回执"}


def register(main: typer.Typer) -> None:
    """Add ``import-excel`` and the ``excel`` group to the main CLI (one line in facade/cli/main.py)."""
    main.command("import-excel")(import_excel)
    main.add_typer(app, name="excel")


def production_processor(current: Settings, database: Database) -> RecordProcessor:
    """The record processor the native gateway uses (the data-element dictionary's)."""
    from facade.mapping.processor import DictionaryProcessor

    return DictionaryProcessor.from_settings(current, database)


# Tests replace this to run the command against another processor.
processor_factory: ProcessorFactory = production_processor


@app.command("template")
def template(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the .xlsx (default: its versioned name here)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Write the import template generated from the current dictionary."""
    from facade.errors import FacadeError
    from facade.excel.assets import load_assets

    started = time.perf_counter()
    try:
        assets = load_assets(settings())
        body = assets.template()
    except FacadeError as exc:
        raise fail(exc, json) from exc
    target = out or Path(assets.filename)
    target.write_bytes(body)
    report = {
        "file": str(target),
        "templateVersion": assets.layout.version,
        "bytes": len(body),
        "sheets": [s.title for s in assets.layout.sheets],
        "seconds": round(time.perf_counter() - started, 3),
    }
    emit(
        report,
        json,
        lambda d: console.print(
            f"template {d['templateVersion']} written to {d['file']} ({d['bytes']} bytes)"
        ),
    )


@app.command("import")
def import_alias(
    file: Annotated[Path, typer.Argument(help="The filled-in .xlsx template.")],
    app_id: Annotated[
        str, typer.Option("--app", help="appId of the hospital system the file comes from.")
    ],
    errors_out: Annotated[
        Path | None, typer.Option("--errors-out", help="Where to write the error workbook.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Same as ``vte-facade import-excel``."""
    import_excel(file, app_id, errors_out, json)


def import_excel(
    file: Annotated[Path, typer.Argument(help="The filled-in .xlsx template.")],
    app_id: Annotated[
        str, typer.Option("--app", help="appId of the hospital system the file comes from.")
    ],
    errors_out: Annotated[
        Path | None,
        typer.Option(
            "--errors-out", help="Where to write the error workbook (default: next to FILE)."
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Import a workbook a hospital sent, as that hospital's app; exits 2 when some rows were rejected.

    Importing the same file again stores nothing twice: the summary says it was already received.
    """
    from facade.errors import FacadeError
    from facade.excel.assets import load_assets
    from facade.excel.imports import import_workbook

    current = settings()
    database = open_database(json)
    if not file.is_file():
        raise fail(f"{file} is not a file", json)
    importer = _importer(current, database, app_id, json)
    data = file.read_bytes()
    operator = f"operator:{getpass.getuser()}"
    try:
        assets = load_assets(current)
        processor = processor_factory(current, database)
        with _ProgressBar(json) as on_progress:
            saved = import_workbook(
                data,
                importer=importer,
                assets=assets,
                settings=current,
                database=database,
                processor=processor,
                source="cli",
                filename=file.name,
                progress=on_progress,
            )
    except FacadeError as exc:
        _audit(current, database, importer, exc.native_code, None, operator, exc.message)
        raise fail(_with_issues(exc), json) from exc
    summary = saved.summary
    counts = {
        "records": summary["total"],
        "accepted": summary["successCount"],
        "rejected": summary["failCount"],
    }
    _audit(
        current,
        database,
        importer,
        "0",
        counts,
        operator,
        f"import {saved.import_id} ({summary['status']})",
    )
    if saved.error_workbook is not None:
        target = errors_out or file.with_name(f"{file.stem}-errors-{saved.import_id[:8]}.xlsx")
        target.write_bytes(saved.error_workbook)
        summary = {**summary, "errorWorkbookFile": str(target)}
    emit(summary, json, _show)
    if summary["status"] != "ALL_SUCCESS":
        raise typer.Exit(2)


def _importer(current: Settings, database: Database, app_id: str, as_json: bool) -> Importer:
    from facade.errors import FacadeError
    from facade.excel.importer import Importer
    from facade.security.callers import CallerCheck

    try:  # the operator acts for the app: the same caller check as the app's own uploads
        access = CallerCheck.for_database(current, database).app(app_id)
    except FacadeError as exc:
        raise fail(exc.message, as_json) from exc
    return Importer(access.app_id, access.org_code, access.allows_service)


class _ProgressBar:
    """A rich progress bar on stderr (so ``--json`` output stays clean), one task per stage."""

    def __init__(self, as_json: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar: Progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=real_console(stderr=True),
            disable=as_json,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Callable[[str, int, int | None], None]:
        self.bar.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def update(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(STAGES.get(stage, stage), total=total)
        self.bar.update(
            self.tasks[stage], completed=done, total=total if total is not None else done
        )


def _with_issues(error: FacadeError) -> str:
    details = "; ".join(
        f"{i.native_code} {i.message}" for i in error.issues if i.message != error.message
    )
    return f"{error.message}" + (f" ({details})" if details else "")


def _audit(
    current: Settings,
    database: Database,
    importer: Importer,
    code: str,
    counts: dict[str, int] | None,
    operator: str,
    message: str,
) -> None:
    from facade.audit.log import AuditLog
    from facade.excel.routes import IMPORT_SERVICE

    try:
        AuditLog(current, database).record_native(
            app_id=importer.app_id,
            org_code=importer.org_code,
            service_code=IMPORT_SERVICE,
            outcome_code=code,
            counts=counts,
            app_name=operator,
            authenticated=True,
            message=message,
            path="cli:import-excel",
        )
    except Exception as exc:
        # The import is committed; a lost audit event must be visible to the operator.
        err_console.print(f"[yellow]warning:[/] audit event not recorded ({type(exc).__name__})")


def _show(summary: dict[str, Any]) -> None:
    counts = (
        f"records {summary['total']}, accepted {summary['successCount']}, "
        f"unchanged {summary['duplicateCount']}, rejected {summary['failCount']}, "
        f"rows without a record {summary['orphanRows']}"
    )
    if summary.get("replayed"):
        console.print(
            f"import {summary['importId']}: [bold]already received[/] on "
            f"{summary.get('firstReceivedAt', '?')} — the same file; nothing was stored again. "
            f"As first received: {summary['status']}, {counts}",
            highlight=False,
        )
    else:
        console.print(
            f"import {summary['importId']}: [bold]{summary['status']}[/]  {counts}",
            highlight=False,
        )
    console.print(_storage_line(summary.get("storage")), highlight=False)
    print_table(
        table(
            ("sheet", "records", "accepted", "unchanged", "rejected"),
            (
                (
                    sheet["sheet"],
                    str(sheet["total"]),
                    str(sheet["successCount"]),
                    str(sheet["duplicateCount"]),
                    str(sheet["failCount"]),
                )
                for sheet in summary["sheets"]
            ),
            ids=("sheet",),
        )
    )
    shown = summary["errors"][:20]
    for error in shown:
        where = (
            f"{error['sheet']} {error['column']}{error['row']}"
            if error["column"]
            else f"{error['sheet']} row {error['row']}"
        )
        console.print(
            f"  {where} [{error['code']}] {error['fieldName'] or error['field']}: {error['message']}",
            markup=False,
            highlight=False,
        )
    if summary["errorCount"] > len(shown):
        console.print(f"  … {summary['errorCount'] - len(shown)} more in the error workbook")
    if "errorWorkbookFile" in summary:
        console.print(f"error workbook: {summary['errorWorkbookFile']}", highlight=False)


def _storage_line(storage: dict[str, Any] | None) -> str:
    """Where the accepted records are: waiting for the forwarder, or stored in the FHIR server."""
    if not storage:
        return "storage: no record was accepted"
    parts = [f"{storage['stored']} stored in the FHIR server"]
    if storage["accepted"]:
        parts.append(
            f"{storage['accepted']} waiting for the forwarder (`vte-facade serve` runs it)"
        )
    if storage["failed"]:
        parts.append(f"{storage['failed']} failed (see VTE.BATCH.QUERY)")
    line = "storage: " + ", ".join(parts)
    if storage.get("storedAt"):
        line += f"; all stored by {storage['storedAt']}"
    return line
