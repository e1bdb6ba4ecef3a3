"""``vte-facade audit status|flush|purge``: the audit outbox and its retention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings

if TYPE_CHECKING:
    from facade.audit.log import AuditLog

app = typer.Typer(help="Inspect, forward and purge the audit trail.", no_args_is_help=True)


def _log(json: bool) -> AuditLog:
    from facade.audit.log import AuditLog

    return AuditLog(settings(), open_database(json))


@app.command()
def status(json: JsonOption = False) -> None:
    """Pending (not yet in HAPI), forwarded and failing events; exits 3 when some are failing."""
    status = _log(json).status()
    data = {
        "pending": status["pending"],
        "forwarded": status["forwarded"],
        "failing": status["failing"],
        "oldestPending": status["oldest_pending"],
    }
    emit(
        data,
        json,
        lambda d: console.print(
            f"pending {d['pending']}  forwarded {d['forwarded']}  failing {d['failing']}"
            + (f"  oldest pending {d['oldestPending']}" if d["oldestPending"] else "")
        ),
    )
    if data["failing"]:
        raise typer.Exit(3)


@app.command()
def flush(json: JsonOption = False) -> None:
    """Forward every pending event to HAPI now (the running facade does this continuously)."""
    import asyncio

    log = _log(json)

    async def run() -> dict[str, int]:
        from facade.upstream import UpstreamClient

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
    import asyncio

    from facade.errors import UpstreamError
    from facade.upstream import UpstreamClient

    log = _log(json)
    cutoff = log.cutoff(days)
    local = log.purge_local(cutoff)
    data: dict[str, Any] = {
        "cutoff": cutoff.isoformat(),
        "deleted": local["deleted"],
        "keptUnforwarded": local["kept_unforwarded"],
    }

    async def run() -> int:
        upstream = UpstreamClient(log.settings)
        try:
            return await log.purge_remote(upstream, cutoff)
        finally:
            await upstream.aclose()

    if remote:
        try:
            data["deletedInHapi"] = asyncio.run(run())
        except UpstreamError as exc:
            raise fail(
                f"local purge done ({data['deleted']} rows); HAPI purge failed: {exc.message}", json
            ) from exc
    emit(
        data,
        json,
        lambda d: console.print(
            f"purged events before {d['cutoff']}: {d['deleted']} local rows"
            + (f", {d['deletedInHapi']} in HAPI" if "deletedInHapi" in d else "")
            + (
                f"; {d['keptUnforwarded']} old rows kept because they never reached HAPI"
                if d["keptUnforwarded"]
                else ""
            )
        ),
    )
