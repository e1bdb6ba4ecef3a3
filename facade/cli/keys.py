"""``vte-facade keys status|rotate-master|sm2-generate|sm2-public``: the facade's own keys."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings
from facade.errors import ConfigurationError
from facade.keys import RotationReport, rotate_master, seal_status
from facade.native import sm2

app = typer.Typer(
    help="Master-key rotation and the platform's SM2 key (see README, 'Keys').",
    no_args_is_help=True,
)


def _show(report: RotationReport, verb: str) -> None:
    table = Table("sealed column", "current key", verb, "unreadable", "changed meanwhile")
    for name, count in report.columns.items():
        table.add_row(
            name, str(count.current), str(count.resealed), str(count.unreadable), str(count.skipped)
        )
    console.print(table)


@app.command()
def status(json: JsonOption = False) -> None:
    """Count sealed blobs under the current and the previous master key (changes nothing)."""
    current = settings()
    report = seal_status(current, open_database(json))
    emit(report.as_dict(), json, lambda _: _show(report, "previous key"))


@app.command("rotate-master")
def rotate(
    batch_size: int = typer.Option(200, min=1, max=5000, help="Rows per transaction."),
    json: JsonOption = False,
) -> None:
    """Re-seal everything still under VTE_PREVIOUS_MASTER_KEY with VTE_MASTER_KEY.

    Safe to run while the facade serves (every instance must already have both keys), safe to
    interrupt and run again. Exits 1 while anything is left that the current key cannot open.
    """
    current = settings()
    if current.previous_master_key is None:
        raise fail(
            "set VTE_PREVIOUS_MASTER_KEY to the old key and VTE_MASTER_KEY to the new one first",
            json,
        )
    report = rotate_master(current, open_database(json), batch_size=batch_size)
    emit(report.as_dict(), json, lambda _: _show(report, "re-sealed"))
    if not report.complete and any(c.unreadable or c.skipped for c in report.columns.values()):
        if not json:
            console.print(
                "[yellow]not complete:[/] run again; blobs no key opens need investigating "
                "before VTE_PREVIOUS_MASTER_KEY is removed"
            )
        raise typer.Exit(1)


@app.command("sm2-generate")
def sm2_generate(json: JsonOption = False) -> None:
    """Generate an SM2 key pair (for VTE_PLATFORM_SM2_KEY / _PUBLIC_KEY, or a test app)."""
    private, public = sm2.generate_keypair()
    data = {"privateKey": private.hex(), "publicKey": sm2.public_key_hex(public)}

    def human(d: dict[str, Any]) -> None:
        console.print(f"VTE_PLATFORM_SM2_KEY={d['privateKey']}", highlight=False)
        console.print(f"VTE_PLATFORM_SM2_PUBLIC_KEY={d['publicKey']}", highlight=False)
        console.print("keep the private key with the other secrets; hand out the public key")

    emit(data, json, human)


@app.command("sm2-public")
def sm2_public(json: JsonOption = False) -> None:
    """Print the platform's SM2 public key, which vendors use to verify SM2-signed replies."""
    try:
        keys = sm2.platform_keys(settings())
    except ConfigurationError as exc:
        raise fail(exc, json) from exc
    if keys is None:
        raise fail("VTE_PLATFORM_SM2_KEY is not configured", json)
    emit(
        {"publicKey": sm2.public_key_hex(keys[1])},
        json,
        lambda d: console.print(d["publicKey"], highlight=False),
    )
