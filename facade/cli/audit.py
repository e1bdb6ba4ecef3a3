"""``vte-facade audit status|flush|purge``: the audit outbox and its retention."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from facade.audit.log import AuditLog
from facade.cli.native import open_database
from facade.cli.output import JsonOption, console, emit, fail, settings
from facade.errors import UpstreamError
from facade.upstream import UpstreamClient

app = typer.Typer(help="Inspect, forward and purge the audit trail.", no_args_is_help=True)


def _log(json: bool) -> AuditLog:
    return AuditLog(settings(), open_database(json))


@app.command()
def status(json: JsonOption = False) -> None:
    """Pending (not yet in HAPI), forwarded and failing events; exits 3 when some are failing."""
    data = _log(json).status()
    emit(
        data,
        json,
        lambda d: console.print(
            f"pending {d['pending']}  forwarded {d['forwarded']}  failing {d['failing']}"
            + (f"  oldest pending {d['oldest_pending']}" if d["oldest_pending"] else "")
        ),
    )
    if data["failing"]:
        raise typer.Exit(3)


@app.command()
def flush(json: JsonOption = False) -> None:
    """Forward every pending event to HAPI now (the running facade does this continuously)."""
    log = _log(json)

    async def run() -> dict[str, int]:
        upstream = UpstreamClient(log.settings)
        try:
            result = await log.flush(upstream)
        finally:
            await upstream.aclose()
        return {"forwarded": result.forwarded, "failed": result.failed}

    data = asyncio.run(run())
    emit(data, json, lambda d: console.print(f"forwarded {d['forwarded']}, failed {d['failed']}"))
    if data["failed"]:
        raise typer.Exit(3)


@app.command()
def purge(
    days: int | None = typer.Option(
        None, min=1, help="Keep this many days (default VTE_AUDIT_RETENTION_DAYS, 180)."
    ),
    remote: bool = typer.Option(True, help="Also delete expired AuditEvents from HAPI."),
    json: JsonOption = False,
) -> None:
    """Delete audit events past retention (forwarded ones only; pending events are never purged)."""
    log = _log(json)
    cutoff = log.cutoff(days)
    data: dict[str, Any] = {"cutoff": cutoff.isoformat(), **log.purge_local(cutoff)}

    async def run() -> int:
        upstream = UpstreamClient(log.settings)
        try:
            return await log.purge_remote(upstream, cutoff)
        finally:
            await upstream.aclose()

    if remote:
        try:
            data["deleted_in_hapi"] = asyncio.run(run())
        except UpstreamError as exc:
            raise fail(
                f"local purge done ({data['deleted']} rows); HAPI purge failed: {exc.message}", json
            ) from exc
    emit(
        data,
        json,
        lambda d: console.print(
            f"purged events before {d['cutoff']}: {d['deleted']} local rows"
            + (f", {d['deleted_in_hapi']} in HAPI" if "deleted_in_hapi" in d else "")
            + (
                f"; {d['kept_unforwarded']} old rows kept because they never reached HAPI"
                if d["kept_unforwarded"]
                else ""
            )
        ),
    )
