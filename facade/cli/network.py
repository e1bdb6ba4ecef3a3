"""``vte-facade uplink configure|status|push|benchmarks`` (child) and ``vte-facade region ...`` (parent)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer

from facade.cli.output import JsonOption, console, emit, fail, open_database, settings

if TYPE_CHECKING:
    from facade.network.uplink import Uplink

uplink_app = typer.Typer(
    help="Report upward: this platform as a child region of a parent facade.",
    no_args_is_help=True,
)
region_app = typer.Typer(
    help="Child regions reporting to this (parent) facade, and the area they make up.",
    no_args_is_help=True,
)
JwksOption = typer.Option(None, help="The child's public JWKS (uplink configure).")
PeriodOption = typer.Option(None, "--period", help="YYYY, YYYY-H1, YYYY-Q1 or YYYY-MM.")


def _uplink(as_json: bool) -> Uplink:
    from facade.network.uplink import Uplink
    from facade.quality.service import QualityService
    from facade.upstream import UpstreamClient

    config = settings()
    database = open_database(as_json)
    return Uplink(config, database, UpstreamClient(config), QualityService(config, database))


@uplink_app.command()
def configure(
    check: bool = typer.Option(False, "--check", help="Also ask the parent for a token."),
    json: JsonOption = False,
) -> None:
    """Show the uplink settings and the public JWKS the parent registers this platform with."""
    from facade.errors import FacadeError
    from facade.network.keys import public_jwks

    config = settings()
    uplink = _uplink(json)
    jwks = public_jwks(config.uplink_key_pem(), config.uplink_key_id)
    data: dict[str, Any] = {
        "parent": config.uplink_parent_url,
        "region": config.uplink_region_code,
        "regionName": config.uplink_region_name,
        "clientId": config.uplink_client_id,
        "jwks": jwks,
        "atParent": (
            f"vte-facade region register {config.uplink_region_code or '<code>'} "
            f"'{config.uplink_region_name or '<name>'}' --jwks child-jwks.json"
        ),
        "missing": [],
    }
    try:
        uplink.check_configured()
    except FacadeError as exc:
        data["missing"] = [i.location for i in exc.issues]
    if check and not data["missing"]:
        data["token"] = asyncio.run(_check_token(uplink))
    emit(data, json, _show_configuration)


async def _check_token(uplink: Uplink) -> str:
    from facade.network.uplink import ParentAnswer

    try:
        async with uplink._http() as http:
            await uplink._token(http)
    except ParentAnswer as exc:
        return f"{exc.outcome}: {exc}"
    return "granted"


def _show_configuration(data: dict[str, Any]) -> None:
    for key in ("parent", "region", "regionName", "clientId"):
        console.print(f"{key}: {data[key] or '(not set)'}", highlight=False)
    if data["missing"]:
        console.print(f"missing settings: {', '.join(data['missing'])}", highlight=False)
    if "token" in data:
        console.print(f"token from the parent: {data['token']}", highlight=False)
    console.print("public JWKS for the parent (save as child-jwks.json):", highlight=False)
    console.print(orjson.dumps(data["jwks"]).decode(), highlight=False, soft_wrap=True)
    console.print(f"at the parent: {data['atParent']}", highlight=False)


@uplink_app.command()
def status(json: JsonOption = False) -> None:
    """What is queued, what was sent, when, and what the parent answered."""
    emit(_uplink(json).status(), json, _show_status)


def _show_status(data: dict[str, Any]) -> None:
    console.print(
        f"parent {data['parent'] or '(none)'}, region {data['region'] or '(none)'}", highlight=False
    )
    for row in data["outbox"]:
        console.print(
            f"queued {row['period']}: {row['state']} ({row['attempts']} attempts)", highlight=False
        )
    for push in data["pushes"]:
        console.print(
            f"{push['startedAt']} {push['period']}: {push['outcome']} {push['sent']}",
            highlight=False,
        )


@uplink_app.command()
def push(period: str | None = PeriodOption, json: JsonOption = False) -> None:
    """Push one period now (``--period``), or every period due in the outbox."""
    from facade.errors import FacadeError

    uplink = _uplink(json)
    try:
        if period:
            results = [asyncio.run(uplink.push(period))]
        else:
            results = asyncio.run(uplink.catch_up())
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit([r.as_dict() for r in results], json, _show_pushes)
    if any(r.outcome not in ("accepted", "unchanged") for r in results):
        raise typer.Exit(1)


def _show_pushes(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("nothing due", highlight=False)
    for row in rows:
        console.print(f"{row['period']}: {row['outcome']} {row['sent']}", highlight=False)


@uplink_app.command()
def benchmarks(period: str = typer.Option(..., "--period"), json: JsonOption = False) -> None:
    """Fetch the parent's benchmarks of a period and show them beside this region's values."""
    from facade.errors import FacadeError
    from facade.network.benchmarks import beside

    uplink = _uplink(json)
    try:
        bench = asyncio.run(uplink.fetch_benchmarks(period))
        own = asyncio.run(_own(uplink, period))
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(beside(own, bench), json, _show_beside)


async def _own(uplink: Uplink, period: str) -> dict[str, float | None]:
    from facade.indicators.service import read_published

    table = await read_published(
        uplink.settings, uplink.upstream, period, None, region=uplink.settings.indicator_region
    )
    return {row.id: row.score for row in table.rows}


def _show_beside(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        console.print(
            f"{row['id']}: ours {row['ours']}, province {row['value']}, bands {row['bands']}",
            highlight=False,
        )


@region_app.command("register")
def register(
    code: str = typer.Argument(..., help="The child's 6-digit region code (GB/T 2260)."),
    name: str = typer.Argument(..., help="The child region's name."),
    jwks: Path | None = JwksOption,
    client_id: str | None = typer.Option(None, help="An existing region client instead."),
    json: JsonOption = False,
) -> None:
    """Register a child region and the SMART client (role ``region``) that reports for it."""
    from facade.errors import FacadeError
    from facade.network.regions import RegionRegistry
    from facade.security.clients import ClientRegistry
    from facade.security.institutions import InstitutionRegistry

    database = open_database(json)
    registry = RegionRegistry(database, ClientRegistry(database, InstitutionRegistry(database)))
    try:
        keys = orjson.loads(jwks.read_bytes()) if jwks else None
        region, client = registry.register(code, name, jwks=keys, client_id=client_id)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    data = {**region.as_dict(), "clientId": client.client_id}
    emit(data, json, lambda d: console.print(f"region {d['code']} → client {d['clientId']}"))


@region_app.command("list")
def list_regions(json: JsonOption = False) -> None:
    """The registered child regions and what each sent."""
    from facade.network.parent import ParentService
    from facade.network.regions import RegionRegistry
    from facade.security.clients import ClientRegistry
    from facade.security.institutions import InstitutionRegistry
    from facade.upstream import UpstreamClient

    config = settings()
    database = open_database(json)
    registry = RegionRegistry(database, ClientRegistry(database, InstitutionRegistry(database)))
    parent = ParentService(config, database, UpstreamClient(config), registry)
    data = {
        "regions": [r.as_dict() for r in registry.all()],
        "submissions": parent.submissions(),
    }
    emit(data, json, _show_regions)


def _show_regions(data: dict[str, Any]) -> None:
    for r in data["regions"]:
        state = "" if r["enabled"] else " (disabled)"
        console.print(f"{r['code']} {r['name']} client {r['clientId']}{state}", highlight=False)
    for s in data["submissions"]:
        console.print(
            f"  {s['region']} {s['period']} {s['kind']} {s['updatedAt']}", highlight=False
        )
