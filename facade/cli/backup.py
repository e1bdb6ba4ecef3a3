"""``vte-facade backup`` and ``vte-facade restore``: both databases, a manifest, checksums, no keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from facade.backup import BackupError, Manifest, create_backup, restore_backup, verify_backup
from facade.backup.archive import ALL, Component
from facade.cli.output import JsonOption, console, emit, fail, settings

OnlyOption = typer.Option(None, "--only", help="Just one database: facade or hapi (default: both).")


def _components(only: str | None, as_json: bool) -> tuple[Component, ...]:
    if only is None:
        return ALL
    if only not in ALL:
        raise fail("--only must be facade or hapi", as_json)
    return (only,)  # type: ignore[return-value]  # checked just above


def _describe(manifest: Manifest) -> dict[str, Any]:
    return manifest.model_dump()


ToOption = Annotated[
    Path | None,
    typer.Option("--to", help="Directory for the archive (default: VTE_VAR_DIR/backups)."),
]
ArchiveArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A vte-backup-*.tar.")
]


def backup(
    to: ToOption = None,
    only: str | None = OnlyOption,
    json: JsonOption = False,
) -> None:
    """Back up the facade database, then HAPI's, into one archive with a manifest (no keys)."""
    current = settings()
    destination = to or current.var_dir / "backups"
    try:
        archive, manifest = create_backup(current, destination, components=_components(only, json))
    except BackupError as exc:
        raise fail(exc, json) from exc

    def human(_: Any) -> None:
        console.print(f"backup written: {archive}", highlight=False)
        for file in manifest.files:
            console.print(f"  {file.name:<16} {file.bytes:>12,} bytes  sha256 {file.sha256}")
        console.print("keys are not in the archive: keep them apart (README, 'Backup')")

    emit({"archive": str(archive), "manifest": _describe(manifest)}, json, human)


def restore(
    archive: ArchiveArgument,
    verify_only: bool = typer.Option(
        False, "--verify-only", help="Check members and checksums, restore nothing."
    ),
    only: str | None = OnlyOption,
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite a target database that already holds data."
    ),
    ignore_key_check: bool = typer.Option(
        False,
        "--ignore-key-check",
        help="Restore although the configured keys differ from the backup's (data stays sealed).",
    ),
    json: JsonOption = False,
) -> None:
    """Verify an archive, then restore it into the databases the current settings name.

    Stop the facade (and, for H2, HAPI) first. Targets must be empty unless --replace.
    """
    current = settings()
    try:
        manifest = (
            verify_backup(archive)
            if verify_only
            else restore_backup(
                current,
                archive,
                components=_components(only, json),
                replace=replace,
                ignore_key_check=ignore_key_check,
            )
        )
    except BackupError as exc:
        raise fail(exc, json) from exc
    done = "verified" if verify_only else "restored"
    emit(
        {"archive": str(archive), "status": done, "manifest": _describe(manifest)},
        json,
        lambda _: console.print(
            f"{archive.name}: {done} ({', '.join(f.name for f in manifest.files)}; made {manifest.created_at})",
            highlight=False,
        ),
    )


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the top-level command."""
    app.command("backup")(backup)
    app.command("restore")(restore)
