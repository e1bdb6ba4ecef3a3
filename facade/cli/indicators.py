"""``vte-facade indicators --period 2026-Q1 [--org X]``: compute, publish and print the indicators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from facade.cli.output import (
    JsonOption,
    console,
    emit,
    fail,
    open_database,
    print_table,
    settings,
)

if TYPE_CHECKING:
    from rich.table import Table as RichTable

    from facade.indicators.service import Table

RegionOrgOption = typer.Option(
    [],
    "--region-org",
    help="Limit the region to these hospitals (repeat); default: every hospital.",
)
IndicatorOption = typer.Option([], "--indicator", help="Only these indicator ids (repeat).")

app = typer.Typer(
    help="Quality indicators: compute through FHIR search, publish MeasureReports, print a table.",
    invoke_without_command=True,
)


@app.callback()
def indicators(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None, help="Reporting period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM."
    ),
    org: str | None = typer.Option(
        None, help="Show one hospital (institution code); default: the region."
    ),
    region_org: list[str] = RegionOrgOption,
    indicator: list[str] = IndicatorOption,
    store: bool = typer.Option(
        True,
        "--store/--no-store",
        help="Publish the MeasureReports to HAPI (the default; all of a run's reports in one "
        "transaction, or none). --no-store only computes and prints.",
    ),
    incremental: bool = typer.Option(
        False,
        "--incremental",
        help="Take the figures from the stay ledger in the facade database, refreshed from what "
        "HAPI stored since its last run (seeded by a full pass on first use; every indicator).",
    ),
    json: JsonOption = False,
) -> None:
    """Compute the indicators of a period through HAPI, publish them as MeasureReports and
    print them."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from facade.errors import FacadeError
    from facade.indicators.service import evaluate_and_publish
    from facade.upstream import UpstreamClient

    if period is None:
        raise fail("--period is required (e.g. --period 2026-Q1)", json, code=2)
    if incremental and indicator:
        raise fail("--incremental refreshes every indicator: leave out --indicator", json, code=2)
    current = settings()
    database = open_database(json) if incremental else None

    async def run() -> tuple[Any, dict[str | None, Table]]:
        upstream = UpstreamClient(current)
        try:
            return await evaluate_and_publish(
                current,
                upstream,
                period,
                region=region_org or None,
                publish=None if org is None else [org],
                indicators=indicator or None,
                store=store,
                database=database,
            )
        finally:
            await upstream.aclose()
            if database is not None:
                database.dispose()

    try:
        evaluation, tables = asyncio.run(run())
    except FacadeError as exc:
        raise fail(exc, json) from exc
    stats = evaluation.stats
    data = {
        "period": evaluation.period.label,
        "tables": [t.as_dict() for t in tables.values()],
        "stats": {
            "stays": stats.stays,
            "seconds": round(stats.total_seconds, 3),
            "countQueries": stats.search.counts,
            "pages": stats.search.pages,
            "resources": stats.search.resources,
        },
    }
    ledger = evaluation.ledger
    if ledger is not None:
        data["ledger"] = {
            "mode": ledger.mode,
            "reason": ledger.reason or None,
            "changes": ledger.changes,
            "deleted": ledger.deleted,
            "people": ledger.people,
            "staysReread": ledger.stays_reread,
            "stays": ledger.stays,
        }

    def human(_: Any) -> None:
        _print(tables, org, evaluation.stats.total_seconds, store)
        if ledger is not None:
            console.print(ledger.summary(), highlight=False)

    emit(data, json, human)


def _print(
    tables: dict[str | None, Table], org: str | None, seconds: float, published: bool
) -> None:
    shown = tables.get(org) if org is not None else tables.get(None)
    if shown is not None:
        print_table(_table(shown))
    if org is None:
        hospitals: dict[str | None, Table] = {k: t for k, t in tables.items() if k is not None}
        if hospitals:
            print_table(_by_hospital(hospitals))
    reports = sum(len(t.rows) for t in tables.values())
    note = f"; {reports} MeasureReports published" if published else " (not published)"
    console.print(f"computed in {seconds:.1f} s{note}", highlight=False)


def _rate(score: float | None) -> str:
    return "—" if score is None else f"{score * 100:.2f}%"


def _table(table: Table) -> RichTable:
    from rich.table import Table as RichTable

    out = RichTable(title=f"VTE indicators {table.period} — {table.scope}")
    for column in ("id", "指标 / indicator", "numerator", "denominator", "rate", "evaluated by"):
        out.add_column(
            column,
            justify="right" if column in ("numerator", "denominator", "rate") else "left",
            no_wrap=column == "id",
            overflow="fold",  # Chinese names have no spaces to wrap at: fold, never cut
        )
    for row in table.rows:
        excluded = row.populations.get("denominator-exclusion", 0)
        methods = " ".join(
            f"{code.split('-')[0][:3]}:{method}" for code, method in row.methods.items()
        )
        out.add_row(
            row.id,
            f"{row.name_zh}\n{row.name_en}",
            str(row.populations.get("numerator", 0)),
            str(row.populations.get("denominator", 0) - excluded),
            _rate(row.score),
            methods,
        )
    return out


def _by_hospital(tables: dict[str | None, Table]) -> RichTable:
    from rich.table import Table as RichTable

    out = RichTable(title="by hospital (rate, numerator/denominator)")
    out.add_column("id", no_wrap=True)
    orgs = sorted(k for k in tables if k is not None)
    for code in orgs:
        out.add_column(code, justify="right", no_wrap=True)  # org codes are typed next: whole
    ids = [row.id for row in next(iter(tables.values())).rows]
    for indicator_id in ids:
        cells = []
        for code in orgs:
            row = next(r for r in tables[code].rows if r.id == indicator_id)
            cells.append(
                f"{_rate(row.score)} ({row.populations.get('numerator', 0)}/{row.populations.get('denominator', 0)})"
            )
        out.add_row(indicator_id, *cells)
    return out


@app.command()
def definitions(json: JsonOption = False) -> None:
    """List the indicator definitions in force."""
    from facade.indicators.service import catalog

    loaded = catalog(settings()).definitions
    data = [
        {
            "id": i.id,
            "slug": i.slug,
            "name": i.name.model_dump(),
            "populations": {
                code.value: [
                    c.model_dump(mode="json", exclude_defaults=True) for c in i.chain(code)
                ]
                for code in i.codes
            },
        }
        for i in loaded.indicators.values()
    ]

    def human(rows: list[dict[str, Any]]) -> None:
        from rich.table import Table as RichTable

        table = RichTable(title="indicator definitions (mappings/indicators)")
        for column in ("id", "name", "numerator criteria"):
            table.add_column(column)
        for row in rows:
            criteria = row["populations"]["numerator"]
            table.add_row(
                row["id"],
                f"{row['name']['zh']}\n{row['name']['en']}",
                ", ".join(c["kind"] for c in criteria),
            )
        print_table(table)

    emit(data, json, human)


@app.command("conformance")
def write_conformance(json: JsonOption = False) -> None:
    """Rewrite the Measures' FSH from the definitions (then run `vte-facade ig build`)."""
    from facade.indicators import conformance
    from facade.indicators.service import catalog

    current = settings()
    loaded = catalog(current)
    path = conformance.generated_path(current.profiles_dir)
    path.write_text(conformance.render(loaded.definitions, loaded.vocab), encoding="utf-8")
    emit({"written": str(path)}, json, lambda d: console.print(f"wrote {d['written']}"))
