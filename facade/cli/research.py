"""``vte-facade research ...`` and ``vte-facade omop vocab load``: data requests, grants, extracts.

State-changing commands act as a registered client (``--as CLIENT_ID``: a researcher submits, a
steward — role admin — decides and revokes), are checked exactly as over HTTP, and are audited
(one AuditEvent each, like an API call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import orjson
import typer
from rich.table import Table as RichTable

from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.cli.output import JsonOption, console, emit, fail, settings
from facade.db import Database
from facade.errors import FacadeError, InvalidInput, http_status_of
from facade.frontdoor.context import FrontDoor
from facade.indicators.service import catalog
from facade.research import catalogue, jobs, lifecycle, omop, vocab
from facade.research.lifecycle import Actor
from facade.research.models import DecisionIn, RequestIn
from facade.security.clients import ClientRegistry
from facade.settings import Settings
from facade.upstream import UpstreamClient

T = TypeVar("T")
app = typer.Typer(help="Research data sharing: catalogue, requests, decisions, extracts.")
omop_app = typer.Typer(help="OMOP CDM support.")
vocab_app = typer.Typer(help="OHDSI vocabularies for OMOP extracts.")
omop_app.add_typer(vocab_app, name="vocab")
AsOption = typer.Option(
    ..., "--as", help="Client id to act as (a researcher, or a steward: role admin)."
)


def _database(current: Settings) -> Database:
    database = Database(current.database_url)
    database.upgrade()
    return database


def _actor(database: Database, client_id: str) -> Actor:
    client = ClientRegistry(database).get(client_id)
    if client is None or not client.enabled:
        raise InvalidInput(f"no enabled client {client_id}")
    return Actor(client.client_id, client.role.value)


def _audited(current: Settings, database: Database, actor: Actor, what: str, run: Any) -> Any:
    ctx = AuditContext(door="fhir", method="CLI", path=f"vte-facade research {what}")
    ctx.client_id, ctx.role, ctx.authenticated = actor.id, actor.role, True
    ctx.interaction, ctx.action = "operation", "E"
    try:
        result = run()
    except FacadeError as exc:
        ctx.detail = exc.message[:200]
        AuditLog(current, database).record(ctx, http_status_of(exc))
        raise
    AuditLog(current, database).record(ctx, 200)
    return result


def _show_request(data: dict[str, Any]) -> None:
    console.print(
        f"[bold]{data['id']}[/]  {data['state']}  {data['project']}  ({data['researcher']})"
    )
    console.print(f"  period {data['period']}  variables {len(data['variables'])}")
    if "grant" in data:
        grant = data["grant"]
        console.print(
            f"  grant: period {grant['period']}, {len(grant['variables'])} variables, expires {grant['expiresAt']}"
        )
    for t in data.get("transitions", []):
        console.print(
            f"  {t['at'][:19]}  {t['from'] or '-'} -> {t['to']}  by {t['actor']} ({t['role']})  {t['reason'] or ''}"
        )


@app.command("catalogue")
def show_catalogue(
    period: str | None = typer.Option(
        None, help="Add the region's counts per month of this period."
    ),
    json: JsonOption = False,
) -> None:
    """Variables a researcher can request (and, with --period, counts; small cells withheld)."""

    async def counts(current: Settings, label: str) -> Any:
        upstream = UpstreamClient(current)
        try:
            tz = catalog(current).definitions.rules.tz
            return await catalogue.counts(current, upstream, label, tz)
        finally:
            await upstream.aclose()

    def run(s: Acting) -> dict[str, Any]:
        data: dict[str, Any] = {"variables": catalogue.variables(s.settings)}
        if period:
            data["counts"] = asyncio.run(counts(s.settings, period))
        return data

    data = _call(json, None, run)

    def human(d: dict[str, Any]) -> None:
        table = RichTable("variable", "description", "dictionary")
        for v in d["variables"]:
            table.add_row(
                v["id"], v.get("description") or "", (v.get("dictionary") or {}).get("field", "")
            )
        console.print(table)
        for rtype, months in d.get("counts", {}).items():
            console.print(
                f"{rtype}: "
                + ", ".join(f"{m} {'<min' if n is None else n}" for m, n in months.items())
            )

    emit(data, json, human)


@dataclass(frozen=True)
class Acting:
    """What one command works with: settings, the database and who it acts as."""

    settings: Settings
    database: Database
    actor: Actor


def _call(json: bool, as_client: str | None, run: Callable[[Acting], T], audit: str = "") -> T:
    """Run a command body as ``as_client``; errors become an exit naming the problem. With
    ``audit``, the call is recorded as one AuditEvent (success or refusal) like an API call."""
    current = settings()
    try:
        database = _database(current)
        actor = _actor(database, as_client) if as_client else Actor(lifecycle.SYSTEM, "operator")
        session = Acting(current, database, actor)
        if audit:
            return cast(T, _audited(current, database, actor, audit, lambda: run(session)))
        return run(session)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    except ValueError as exc:  # malformed input files and option values (pydantic)
        raise fail(str(exc), json) from exc


@app.command("requests")
def list_requests(
    as_client: str = AsOption,
    state: str | None = typer.Option(None, help="Only this state."),
    json: JsonOption = False,
) -> None:
    """Requests the client may see (a steward: all)."""
    rows = _call(json, as_client, lambda s: lifecycle.listing(s.database, s.actor, state))

    def human(items: list[dict[str, Any]]) -> None:
        for item in items:
            _show_request(item)
        if not items:
            console.print("no requests")

    emit(rows, json, human)


@app.command("show")
def show(request_id: str, as_client: str = AsOption, json: JsonOption = False) -> None:
    """One request with its transitions."""
    data = _call(json, as_client, lambda s: lifecycle.read(s.database, s.actor, request_id))
    emit(data, json, _show_request)


@app.command("submit")
def submit(
    file: Annotated[
        Path,
        typer.Argument(
            help="The request as JSON (project, purpose, ethicsApproval, period, cohort, variables)."
        ),
    ],
    as_client: str = AsOption,
    json: JsonOption = False,
) -> None:
    """Submit a request as a researcher."""

    def run(s: Acting) -> dict[str, Any]:
        body = RequestIn.model_validate(orjson.loads(file.read_bytes()))
        known = catalogue.known_variables(s.settings)
        lifecycle.check_request(body, catalog(s.settings).definitions, known)
        return lifecycle.submit(s.database, s.actor, body)

    emit(_call(json, as_client, run, audit="submit"), json, _show_request)


@app.command("decide")
def decide(
    request_id: str,
    as_client: str = AsOption,
    decision: str = typer.Option(..., help="approve, narrow or reject."),
    reason: str = typer.Option(..., help="Why (stored and shown to the researcher)."),
    expires: Annotated[
        datetime | None, typer.Option(help="Grant expiry (default: VTE_RESEARCH_GRANT_DAYS).")
    ] = None,
    variable: Annotated[
        list[str] | None,
        typer.Option("--variable", help="narrow: keep only these variables (repeat)."),
    ] = None,
    period: str | None = typer.Option(None, help="narrow: a shorter period."),
    json: JsonOption = False,
) -> None:
    """Approve, narrow or reject a submitted request as a steward."""

    def run(s: Acting) -> dict[str, Any]:
        body = DecisionIn.model_validate(
            {
                "decision": decision,
                "reason": reason,
                "expires": expires,
                "variables": variable or None,
                "period": period,
            }
        )
        definitions = catalog(s.settings).definitions
        return lifecycle.decide(s.database, s.settings, definitions, s.actor, request_id, body)

    emit(_call(json, as_client, run, audit="decide"), json, _show_request)


@app.command("revoke")
def revoke(
    request_id: str,
    as_client: str = AsOption,
    reason: str = typer.Option(..., help="Why the grant is withdrawn."),
    json: JsonOption = False,
) -> None:
    """Revoke a live grant as a steward (downloads stop at once, the files are deleted)."""

    def run(s: Acting) -> dict[str, Any]:
        revoked = lifecycle.revoke(s.database, s.actor, request_id, reason)
        jobs.purge(s.database)
        return revoked

    emit(_call(json, as_client, run, audit="revoke"), json, _show_request)


@app.command("extract")
def extract(request_id: str, as_client: str = AsOption, json: JsonOption = False) -> None:
    """Queue an extraction of a live grant and run it now, showing progress."""
    queued = _call(
        json, as_client, lambda s: jobs.queue(s.database, s.actor, request_id), audit="extract"
    )
    data = _call(
        json, None, lambda s: asyncio.run(_run_one(s.settings, s.database, queued["id"], json))
    )
    emit(
        data, json, lambda d: console.print(f"extract {d['id']}: {d['state']} {d.get('error', '')}")
    )


async def _run_one(
    current: Settings, database: Database, extract_id: str, quiet: bool
) -> dict[str, Any]:
    upstream = UpstreamClient(current)
    try:
        door = FrontDoor(current)
        while (job := jobs.claim(database)) is not None:
            result = await jobs.execute(current, database, upstream, door, job)
            if not quiet:
                console.print(f"extract {job.id}: {result['state']}")
            if job.id == extract_id:
                return result
        return jobs.read(database, Actor(lifecycle.SYSTEM, lifecycle.STEWARD), extract_id)
    finally:
        await upstream.aclose()


@app.command("run-extracts")
def run_extracts(json: JsonOption = False) -> None:
    """Run every queued extraction (when the in-process worker is switched off)."""

    async def run(s: Acting) -> int:
        upstream = UpstreamClient(s.settings)
        try:
            return await jobs.drain(s.settings, s.database, upstream, FrontDoor(s.settings))
        finally:
            await upstream.aclose()

    ran = _call(json, None, lambda s: asyncio.run(run(s)))
    emit({"ran": ran}, json, lambda d: console.print(f"ran {d['ran']} extraction(s)"))


@app.command("purge")
def purge(json: JsonOption = False) -> None:
    """Delete the files of extracts whose grant was revoked or has expired."""
    removed = _call(json, None, lambda s: jobs.purge(s.database))
    emit({"removed": removed}, json, lambda d: console.print(f"removed {d['removed']} extract(s)"))


@app.command("status")
def status(extract_id: str, as_client: str = AsOption, json: JsonOption = False) -> None:
    """An extract's progress (and files when done)."""
    data = _call(json, as_client, lambda s: jobs.read(s.database, s.actor, extract_id))
    data.pop("manifest", None)
    emit(
        data,
        json,
        lambda d: console.print(f"{d['id']}: {d['state']} {d['progress']}% {d['stage']}"),
    )


@vocab_app.command("load")
def load_vocab(
    directory: Annotated[
        Path, typer.Argument(help="An OHDSI Athena export (CONCEPT.csv, CONCEPT_RELATIONSHIP.csv).")
    ],
    json: JsonOption = False,
) -> None:
    """Load the parts of an Athena vocabulary export the OMOP tables need."""

    def run(s: Acting) -> vocab.LoadResult:
        config = omop.load_config(s.settings.mappings_dir / "research" / "omop.yaml")
        return vocab.load(s.database, directory, set(config.source_vocabularies))

    result = _call(json, None, run)
    emit(
        {"concepts": result.concepts, "mappings": result.mappings, "release": result.release},
        json,
        lambda d: console.print(
            f"loaded {d['concepts']} concepts, {d['mappings']} 'Maps to' ({d['release'] or 'release unknown'})"
        ),
    )
