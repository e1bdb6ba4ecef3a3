"""``vte-facade synth``: a deterministic synthetic region (native records and the expected indicators)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings

OutOption = typer.Option(..., help="Directory for records/, expected.json and region.json.")


def _write(path: Path, data: Any) -> None:
    import orjson

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def synth(
    seed: int = typer.Option(..., help="Random seed; the same seed gives the same region."),
    hospitals: int = typer.Option(3, min=1, help="Number of hospitals."),
    encounters: int = typer.Option(240, min=40, help="Inpatient stays in the whole region."),
    out: Path = OutOption,
    period: str = typer.Option("2026-Q1", help="Reporting period the region is built around."),
    run: str = typer.Option("", help="Extra text making org codes unique (e.g. a test run id)."),
    push: bool = typer.Option(
        False, "--push", help="Register the hospitals and upload through the gateway."
    ),
    defects: bool = typer.Option(
        False,
        "--defects",
        help="Add known data-quality defects of every check (dq/submissions.json, dq/expected.json).",
    ),
    gateway: str | None = typer.Option(
        None, help="Gateway URL for --push (default: <public base URL>/vte-x/v1/gateway)."
    ),
    stall: float = typer.Option(
        300.0,
        min=1,
        help="--push waits as long as records keep being stored; it gives up after this many "
        "seconds without one.",
    ),
    json: JsonOption = False,
) -> None:
    """Generate a synthetic region (deterministic from a seed) and its expected indicators.

    Writes native records per hospital and record type, expected.json and region.json.
    """
    from collections import Counter

    import httpx

    from facade.errors import FacadeError
    from facade.indicators.service import catalog
    from facade.synth.generator import RegionSpec, generate
    from facade.synth.truth import expected

    current = settings()
    region = generate(
        RegionSpec(seed=seed, hospitals=hospitals, encounters=encounters, period=period, run=run)
    )
    records = region.records()
    for org, kinds in records.items():
        for kind, items in kinds.items():
            _write(out / "records" / org / f"{kind}.json", items)
    truth = expected(records, catalog(current).definitions, period)
    _write(out / "expected.json", {k: v.as_dict() for k, v in truth.items()})
    labels = Counter(s.label for s in region.stays if s.label)
    summary: dict[str, Any] = {
        "seed": seed,
        "period": region.period.label,
        "out": str(out),
        "hospitals": [
            {"orgCode": h.org_code, "name": h.name, "departments": [d.code for d in h.departments]}
            for h in region.hospitals
        ],
        "stays": len(region.stays),
        "resourcesEstimate": region.resource_estimate(),
        "records": {org: {k: len(v) for k, v in kinds.items()} for org, kinds in records.items()},
        "edgeCases": sorted(labels),
    }
    if defects:
        summary["defects"] = _defects(current, region, out, push, stall)
        push = False  # the defect schedule was pushed instead of the plain records
    _write(out / "region.json", summary)
    if push:
        url = gateway or f"{current.public_base_url}/vte-x/v1/gateway"
        try:
            summary["push"] = _push(current, region, url, stall)
        except (FacadeError, httpx.HTTPError) as exc:
            raise fail(exc if isinstance(exc, FacadeError) else str(exc), json) from exc
    emit(
        summary,
        json,
        lambda d: console.print(
            f"{d['stays']} stays in {len(d['hospitals'])} hospitals (≈{d['resourcesEstimate']} FHIR resources), "
            f"{len(d['edgeCases'])} edge cases → {d['out']}"
            + (f"; pushed {d['push']['records']} records" if push else "")
        ),
    )


def _defects(current: Any, region: Any, out: Path, push: bool, stall: float) -> dict[str, Any]:
    """Write the defect schedule and its ground truth (and push it through the gateway)."""
    from dataclasses import replace

    from facade.quality.rules import rule_set
    from facade.synth.defects import with_defects
    from facade.synth.dq_truth import expected_quality

    rules = rule_set(current)
    planned = with_defects(region, rules)
    truth = expected_quality(planned, rules)
    _write(out / "dq" / "submissions.json", planned.as_dict())
    _write(
        out / "dq" / "expected.json",
        {
            "note": "numerator/denominator per institution, month and check, for the planned "
            "receipt times (atMs); a live push receives records now, so timeliness differs",
            "counts": [
                {"orgCode": org, "month": month, "check": check, "numerator": n, "denominator": d}
                for (org, month, check), (n, d) in sorted(truth.tally.items())
            ],
        },
    )
    summary: dict[str, Any] = {
        "volumeHospital": planned.hospitals[-1].org_code,
        "submissions": len(planned.submissions),
        "injected": sum(planned.injected.values()),
    }
    if push:
        url = f"{current.public_base_url}/vte-x/v1/gateway"
        summary["push"] = _push(
            current, replace(region, hospitals=planned.hospitals), url, stall, planned
        )
    return summary


def _push(current: Any, region: Any, url: str, stall: float, planned: Any = None) -> dict[str, Any]:
    import asyncio
    import time

    import httpx
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from facade.native.client import VteXClient
    from facade.quality.rules import rule_set
    from facade.synth.push import register_region, upload_region, wait_stored
    from facade.upstream import UpstreamClient

    database = open_database(False)

    async def register() -> Any:
        upstream = UpstreamClient(current)
        try:
            return await register_region(current, database, upstream, region)
        finally:
            await upstream.aclose()

    apps = asyncio.run(register())
    with httpx.Client(timeout=120) as http:
        if planned is not None:  # defects: the schedule in order, refusals expected
            clients = {
                org: VteXClient(
                    url,
                    app_id=app.app_id,
                    org_code=org,
                    secret=app.secret,
                    sign_type="HMAC-SM3",
                    http=http,
                )
                for org, app in apps.items()
            }
            for submission in planned.submissions:
                service = rule_set(current).dictionary.record_types[submission.record_type]
                clients[submission.org_code].upload(
                    service.service_code, submission.batch_no, submission.records
                )
            records = sum(len(s.records) for s in planned.submissions)
            return {"records": records, "apps": {org: a.app_id for org, a in apps.items()}}
        result = upload_region(region, apps, http, url=url)
        with Progress(
            TextColumn("stored in FHIR"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("stored", total=result.records, rate="")
            started = time.monotonic()

            def shown(stored: int, total: int) -> None:
                seconds = max(time.monotonic() - started, 1e-6)
                bar.update(task, completed=stored, total=total, rate=f"{stored / seconds:.1f}/s")

            wait_stored(result, apps, http, url=url, stall_seconds=stall, progress=shown)
    return {
        "records": result.records,
        "seconds": round(result.seconds, 1),
        "apps": {org: app.app_id for org, app in apps.items()},
    }
