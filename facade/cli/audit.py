"""``vte-facade audit status|verify|purge``: the audit store, its hash chain and its retention."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from facade.cli.output import JsonOption, console, emit, open_database, settings

if TYPE_CHECKING:
    from facade.audit.log import AuditLog

app = typer.Typer(help="Inspect, verify and purge the audit store.", no_args_is_help=True)


def _log(json: bool) -> AuditLog:
    from facade.audit.log import AuditLog

    return AuditLog(settings(), open_database(json))


@app.command()
def status(json: JsonOption = False) -> None:
    """Events stored, the chain head, the newest event and the last purge."""
    found = _log(json).status()
    data = {
        "stored": found["stored"],
        "headSeq": found["head_seq"],
        "headHash": found["head_hash"],
        "purgedThrough": found["purged_through"],
        "lastPurge": found["last_purge"],
        "newest": found["newest"],
    }
    emit(
        data,
        json,
        lambda d: console.print(
            f"stored {d['stored']}  head #{d['headSeq']} {d['headHash'][:16]}…"
            + (f"  newest {d['newest']}" if d["newest"] else "")
            + (
                f"  purged through #{d['purgedThrough']} ({d['lastPurge']})"
                if d["lastPurge"]
                else ""
            ),
            highlight=False,
        ),
    )


@app.command()
def verify(json: JsonOption = False) -> None:
    """Check every link of the hash chain; exits 3 and names the first broken link if one fails."""
    result = _log(json).verify()
    data = {
        "ok": result.ok,
        "checked": result.checked,
        "firstSeq": result.first_seq,
        "lastSeq": result.last_seq,
        "anchorSeq": result.anchor_seq,
        "broken": None
        if result.broken is None
        else {"seq": result.broken.seq, "id": result.broken.id, "reason": result.broken.reason},
    }

    def human(d: dict[str, object]) -> None:
        if result.broken is None:
            console.print(
                f"chain intact: {d['checked']} events checked"
                + (f" (from anchor #{d['anchorSeq']})" if result.anchor_seq else ""),
                highlight=False,
            )
        else:
            console.print(
                f"[red]chain broken at #{result.broken.seq}[/]"
                + (f" (AuditEvent/{result.broken.id})" if result.broken.id else "")
                + f": {result.broken.reason}; {d['checked']} events before it hold",
                highlight=False,
            )

    emit(data, json, human)
    if not result.ok:
        raise typer.Exit(3)


@app.command()
def purge(
    days: int | None = typer.Option(
        None, min=1, help="Keep this many days (default VTE_AUDIT_RETENTION_DAYS, 180)."
    ),
    json: JsonOption = False,
) -> None:
    """Delete events past retention; an anchor keeps the rest of the chain verifiable."""
    log = _log(json)
    cutoff = log.cutoff(days)
    result = log.purge(cutoff)
    data = {
        "cutoff": cutoff.isoformat(),
        "deleted": result["deleted"],
        "purgedThrough": result["purged_through"],
    }
    emit(
        data,
        json,
        lambda d: console.print(
            f"purged events before {d['cutoff']}: {d['deleted']} deleted; "
            f"the chain is anchored at #{d['purgedThrough']}",
            highlight=False,
        ),
    )
