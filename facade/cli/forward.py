"""``vte-facade forward``: move accepted native records into the FHIR server (once, or as a loop)."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from facade.cli.output import JsonOption, console, emit, fail, settings


def _human(data: dict[str, Any]) -> None:
    console.print(
        f"claimed {data['claimed']}  stored {data['stored']}  failed {data['failed']}  "
        f"retry later {data['released']} ({data['conflicts']} write conflicts, "
        f"{data['linkWaits']} waiting for a linked record)  transactions {data['transactions']}  "
        f"in {data['seconds']:.1f} s"
        + ("  [yellow](FHIR server unavailable)[/]" if data["upstreamDown"] else "")
    )
    if data.get("queue"):
        queue = data["queue"]
        console.print(
            f"queue: accepted {queue['accepted']}  stored {queue['stored']}  failed {queue['failed']}"
        )


async def _run(once: bool) -> dict[str, Any]:
    import asyncio

    from facade.db import Database
    from facade.forward.worker import Forwarder, ForwardReport
    from facade.logs import configure_logging
    from facade.upstream import UpstreamClient

    current = settings()
    configure_logging(current.log_level)
    database = Database(current.database_url)
    upstream = UpstreamClient(current)
    try:
        forwarder = Forwarder(current, database, upstream)
        if once:
            report = await forwarder.drain()
        else:
            report = ForwardReport()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await forwarder.run_forever(stop, report)
        result = {_camel(k): v for k, v in report.as_dict().items()}
        result["queue"] = forwarder.queue.counts()
        return result
    finally:
        await upstream.aclose()
        database.dispose()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@app.callback()
def forward(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Drain what is claimable now, then exit (default: run until stopped)."
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Forward accepted native and Excel records to the FHIR server (normally done by `serve`).

    Records go as FHIR transactions; their receipts become stored or failed. ``forward status``
    shows the backlog instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from facade.errors import FacadeError

    try:
        result = asyncio.run(_run(once))
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(result, json, _human)
    if result["upstreamDown"]:
        raise typer.Exit(2)


def _status_human(data: dict[str, Any]) -> None:
    queue, rates = data["queue"], data["storedPerSecond"]
    oldest = data["oldestAcceptedSeconds"]
    console.print(
        f"queue: accepted {queue['accepted']}  stored {queue['stored']}  failed {queue['failed']}"
        + (f"  (oldest waiting {oldest:.0f} s)" if oldest is not None else "")
    )
    console.print(
        "stored/s: "
        + "  ".join(f"{window} {rate:.1f}" for window, rate in rates.items())
        + (f"  → drained in ≈{data['drainEtaSeconds']} s" if data["drainEtaSeconds"] else "")
    )
    for failure in data["failuresByReason"]:
        console.print(f"  failed {failure['records']:6d}  {failure['reason']}")
    alarms = data["validationAlarms"]
    if alarms["count"]:
        console.print(
            f"[red]sampled validation alarms: {alarms['count']}[/] (last: {alarms['last']})"
        )
    console.print(f"id scheme: {data['idScheme']}")


@app.command()
def status(json: JsonOption = False) -> None:
    """The backlog: queue depth, oldest waiting record, stored/s, failures by reason, alarms.

    Rates are over the last 1, 5 and 15 minutes; the drain estimate uses the 5-minute rate.
    """
    from facade.db import Database
    from facade.forward.status import backlog

    database = Database(settings().database_url)
    try:
        emit(backlog(database), json, _status_human)
    finally:
        database.dispose()
