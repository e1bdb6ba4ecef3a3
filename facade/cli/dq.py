"""``vte-facade dq --period 2026-Q1 [--org X] [--json | --xlsx FILE] [--fhir FILE] [--publish]``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table as RichTable

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings
from facade.errors import FacadeError
from facade.quality.service import QualityService
from facade.upstream import UpstreamClient

XlsxOption = Annotated[
    Path | None, typer.Option("--xlsx", help="Also write the report as a workbook.")
]
FhirOption = Annotated[
    Path | None,
    typer.Option("--fhir", help="Also write the MeasureReports as a FHIR collection Bundle."),
]
app = typer.Typer(
    help="Data quality: per-institution and region reports from the intake counters.",
    invoke_without_command=True,
)


@app.callback()
def dq(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None, help="Reporting period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM."
    ),
    org: str | None = typer.Option(None, help="One institution (code); default: the region."),
    xlsx: XlsxOption = None,
    fhir: FhirOption = None,
    publish: bool = typer.Option(
        False, "--publish", help="Store the MeasureReports in HAPI (VTE_FHIR_BASE_URL)."
    ),
    json: JsonOption = False,
) -> None:
    """Print the data-quality report of a period (scores, problems, rank, trend)."""
    if ctx.invoked_subcommand is not None:
        return
    if period is None:
        raise fail("--period is required (e.g. --period 2026-Q1)", json, code=2)
    current = settings()
    service = QualityService(current, open_database(json))
    try:
        document = service.report(period, org)
        if xlsx is not None:
            xlsx.write_bytes(service.workbook(period, org))
        if fhir is not None:
            entries = [{"resource": r} for r in service.measure_reports(period, org)]
            bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
            fhir.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
        if publish:
            document["published"] = asyncio.run(_publish(current, service, period, org))
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(document, json, _print)


async def _publish(current: Any, service: QualityService, period: str, org: str | None) -> Any:
    upstream = UpstreamClient(current)
    try:
        return await service.publish(upstream, period, org)
    finally:
        await upstream.aclose()


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _print(document: dict[str, Any]) -> None:
    overall = document["overall"]
    who = document.get("orgName") or "区域 (region)"
    line = (
        f"[bold]{who}[/] {document['period']}: overall {_score(overall['score'])} "
        f"({overall['grade'] or '—'}), trend {_score(overall['trend'])} vs {document['previousPeriod']}"
    )
    if "rank" in document:
        line += f", rank {document['rank']['position'] or '—'} of {document['rank']['of']}"
    console.print(line)
    dims = RichTable(title="dimensions (GB/T 36344)")
    for column in ("dimension", "score", "previous", "passed", "failed", "n/a"):
        dims.add_column(column)
    for d in document["dimensions"]:
        dims.add_row(
            f"{d['zh']} {d['en']}",
            _score(d["score"]),
            _score(d["previous"]),
            str(d["passed"]),
            str(d["failed"]),
            str(d["notApplicable"]),
        )
    console.print(dims)
    problems = RichTable(title="top problems")
    for column in ("rule", "status", "count", "rate", "examples"):
        problems.add_column(column)
    for p in document["topProblems"]:
        if "dates" in p:
            examples = ", ".join(p["dates"][:5])
        elif "records" in p:
            examples = ", ".join(r["recordId"] for r in p["records"][:5])
        else:
            examples = ", ".join(f"{h['orgCode']}:{h['count']}" for h in p["hospitals"][:3])
        rate = "—" if p["rate"] is None else f"{p['rate'] * 100:.2f}%"
        problems.add_row(p["rule"], p["status"], str(p["count"]), rate, examples)
    console.print(problems)
    if "hospitals" in document:
        table = RichTable(title="hospitals")
        for column in ("rank", "institution", "overall", "grade", "trend", "failed rules"):
            table.add_column(column)
        for h in document["hospitals"]:
            table.add_row(
                str(h["rank"] or "—"),
                f"{h['orgCode']} {h['name']}",
                _score(h["overall"]),
                h["grade"] or "—",
                _score(h["trend"]),
                str(h["failedRules"]),
            )
        console.print(table)


@app.command()
def rules(json: JsonOption = False) -> None:
    """List the data-quality checks in force (mappings/quality, expanded)."""
    service = QualityService(settings(), open_database(json))
    data = service.rules()

    def human(catalogue: dict[str, Any]) -> None:
        table = RichTable(title=f"data-quality checks ({len(catalogue['rules'])})")
        for column in ("id", "dimension", "severity", "threshold"):
            table.add_column(column)
        for rule in catalogue["rules"]:
            table.add_row(rule["id"], rule["dimension"], rule["severity"], str(rule["threshold"]))
        console.print(table)

    emit(data, json, human)
