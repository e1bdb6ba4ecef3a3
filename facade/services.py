"""The composition root: every service of one facade app, built once, wired here and nowhere else.

How they depend on each other (each arrow: "is built with")::

    settings, database, upstream (one httpx pool to HAPI)
    engine ── the data-element dictionary and ConceptMaps (loaded once per process)
    record_processor ── engine            (None: native and Excel uploads answer 5001)
    excel_assets ──── engine.dictionary   (template and layout built on first use)
    institutions ──── database            (admitted institutions, status cached briefly)
    clients ───────── institutions        (SMART clients; hospitals only for admitted ones)
    tokens ────────── clients
    callers ───────── institutions, tokens    (the one caller check of every door)
    audit ─────────── database            (the hash-chained audit store, written in batches)
    gateway ───────── callers, record_processor, audit.native_hook, quality (VTE.DQ.QUERY),
                      forwarder.doorbell (rung when a batch is accepted)
    projector ─────── the role views (mappings/views), checked against every profile at start-up
    frontdoor ─────── projector           (keys, intake limits, caches of the FHIR door)
    indicators ────── upstream
    submissions ───── database            (batches, receipts, imports as operators list them)
    quality ───────── database            (data-quality counters kept at intake, reports)
    console ───────── institutions, submissions (people's sign-in, pages, indicator refresher)
    forwarder ─────── upstream, engine    (only beside the dictionary processor; built before
                                          the gateway, which rings its doorbell)
    network ───────── clients, quality, audit (child regions and the area as a parent; the
                                          uplink to a parent as a child; facade/network)

Routes reach a service through a typed dependency of ``facade.api.deps`` (``GatewayDep``,
``AuditDep``, ... or the whole container as ``ServicesDep``); nothing is created on first use.
``lifespan(services)`` runs the background loops (intake forwarder, audit writer, the
console's indicator refresher, the research extraction worker) while the
app serves and closes the upstream pool and the database afterwards.

Adding a service: a field on ``Services``, one line in ``build_services``, one alias in
``facade.api.deps``; a background loop goes into ``lifespan``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI

from facade.audit.log import AuditLog
from facade.console.services import ConsoleServices
from facade.db import Database
from facade.dictionary.loader import Dictionary
from facade.excel.assets import ExcelAssets, load_assets
from facade.forward.worker import Forwarder
from facade.frontdoor.context import FrontDoor
from facade.indicators.service import IndicatorService
from facade.mapping.engine import MappingEngine
from facade.mapping.processor import DictionaryProcessor
from facade.native.gateway import Gateway
from facade.native.processor import RecordProcessor
from facade.native.services import DQ_QUERY
from facade.network.parent import ParentService
from facade.network.recorder import LinkageRecorder
from facade.network.regions import RegionRegistry
from facade.network.uplink import Uplink
from facade.privacy.projector import Projector
from facade.quality.service import QualityService, native_query
from facade.research import jobs as research_jobs
from facade.security.callers import CallerCheck
from facade.security.clients import ClientRegistry
from facade.security.institutions import InstitutionRegistry
from facade.security.tokens import TokenService
from facade.settings import Settings, ensure_secrets
from facade.submissions.service import Submissions
from facade.upstream import UpstreamClient

log = logging.getLogger("facade.services")

# How long shutdown waits for a loop to finish its round before cancelling it.
FORWARDER_STOP_SECONDS = 30.0
AUDIT_STOP_SECONDS = 5.0
REFRESH_STOP_SECONDS = 10.0
RESEARCH_STOP_SECONDS = 30.0
UPLINK_STOP_SECONDS = 10.0

ProcessorChoice = RecordProcessor | Literal["dictionary"] | None


@dataclass(frozen=True)
class NetworkServices:
    """The multi-level network: this facade as a parent (regions, area) and as a child (uplink)."""

    regions: RegionRegistry
    parent: ParentService
    uplink: Uplink


@dataclass(frozen=True)
class Services:
    """Everything one facade app uses, built once by ``build_services``."""

    settings: Settings
    database: Database
    upstream: UpstreamClient
    engine: MappingEngine
    record_processor: RecordProcessor | None
    excel_assets: ExcelAssets
    institutions: InstitutionRegistry
    clients: ClientRegistry
    tokens: TokenService
    callers: CallerCheck
    audit: AuditLog
    gateway: Gateway
    projector: Projector
    frontdoor: FrontDoor
    indicators: IndicatorService
    forwarder: Forwarder | None
    submissions: Submissions
    quality: QualityService
    console: ConsoleServices | None  # None when VTE_CONSOLE_ENABLED is off
    network: NetworkServices

    @property
    def dictionary(self) -> Dictionary:
        """The data-element dictionary (the mapping engine's)."""
        return self.engine.dictionary


def build_services(
    settings: Settings,
    *,
    database: Database | None = None,
    record_processor: ProcessorChoice = "dictionary",
    upstream: UpstreamClient | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    """Build every service of an app from one Settings object.

    ``record_processor``: ``"dictionary"`` (production: the data-element dictionary's, and then
    the forwarder runs beside it), another ``RecordProcessor`` (tests), or None (uploads 5001).
    ``clock`` (seconds since the epoch) is what the gateway and data quality take as "now";
    tests replay a dated schedule with their own.
    """
    settings = ensure_secrets(settings)
    database = database or Database(settings.database_url)
    upstream = upstream or UpstreamClient(settings)
    engine = MappingEngine.from_settings(settings)
    if record_processor == "dictionary":
        record_processor = DictionaryProcessor.from_settings(settings, database)
    institutions = InstitutionRegistry(database, ttl_seconds=settings.institution_cache_seconds)
    clients = ClientRegistry(database, institutions)
    tokens = TokenService(settings, clients)
    callers = CallerCheck(settings, database, institutions, tokens)
    audit = AuditLog(settings, database)
    # The role views, checked against every profile now: an unclassified element stops start-up.
    projector = Projector.from_settings(settings)
    submissions = Submissions(settings, database)
    frontdoor = FrontDoor(settings, projector)
    # Province pseudonyms kept at the FHIR door's intake (the network's linkage, facade/network).
    frontdoor.linkage = LinkageRecorder.for_settings(settings, database)
    # Data quality: counters are kept by the intake itself; reports through /dq and VTE.DQ.QUERY.
    quality = QualityService(settings, database, clock=clock)
    regions = RegionRegistry(database, clients)
    # Another processor's payloads are not the engine's to map: no forwarder beside it.
    forwarder = (
        Forwarder(settings, database, upstream, record_processor.engine)
        if isinstance(record_processor, DictionaryProcessor)
        else None
    )
    network = NetworkServices(
        regions=regions,
        parent=ParentService(settings, database, upstream, regions),
        uplink=Uplink(settings, database, upstream, quality, audit, clock=clock),
    )
    return Services(
        settings=settings,
        database=database,
        upstream=upstream,
        engine=engine,
        record_processor=record_processor,
        excel_assets=load_assets(settings, engine.dictionary),
        institutions=institutions,
        clients=clients,
        tokens=tokens,
        callers=callers,
        audit=audit,
        # The gateway's audit hook: one AuditEvent per native request, refused ones included.
        gateway=Gateway(
            settings,
            database,
            callers,
            processor=record_processor,
            audit=audit.native_hook,
            queries={DQ_QUERY: native_query(quality)},
            clock=clock,
            accepted=forwarder.doorbell.ring if forwarder is not None else None,
        ),
        projector=projector,
        frontdoor=frontdoor,
        indicators=IndicatorService(settings, upstream),
        forwarder=forwarder,
        submissions=submissions,
        quality=quality,
        console=ConsoleServices(settings, database, institutions, submissions)
        if settings.console_enabled
        else None,
        network=network,
    )


def services_of(app: FastAPI) -> Services:
    """The services ``create_app`` built for ``app``."""
    services: Services = app.state.services
    return services


@contextlib.asynccontextmanager
async def lifespan(services: Services) -> AsyncIterator[None]:
    """Run the background loops while the app serves; then stop them (the audit writer commits
    what is queued as it stops), close pools."""
    stop = asyncio.Event()
    loops: list[tuple[asyncio.Task[None], float]] = [
        (
            asyncio.create_task(services.audit.run(stop), name="vte-audit-writer"),
            AUDIT_STOP_SECONDS,
        )
    ]
    if services.console is not None:
        # Recompute requests from the console and the daily indicator schedule.
        services.console.refresher.after_job = services.console.warm
        # As a parent, the region's reports are the area's, aggregated from the children.
        services.console.refresher.area = services.network.parent.publish_area
        loops.append(
            (
                asyncio.create_task(
                    services.console.refresher.run(services.upstream, stop),
                    name="vte-indicator-refresh",
                ),
                REFRESH_STOP_SECONDS,
            )
        )
    if services.settings.research_worker_enabled:
        loops.append(
            (
                asyncio.create_task(
                    research_jobs.run_forever(
                        services.settings,
                        services.database,
                        services.upstream,
                        services.frontdoor,
                        stop,
                    ),
                    name="vte-research-worker",
                ),
                RESEARCH_STOP_SECONDS,
            )
        )
    if services.forwarder is not None and services.settings.forward_enabled:
        loops.append(
            (
                asyncio.create_task(services.forwarder.run_forever(stop), name="vte-forwarder"),
                FORWARDER_STOP_SECONDS,
            )
        )
    if services.network.uplink.configured:
        # Periods queued for the parent (daily schedule, manual pushes, failed attempts).
        loops.append(
            (
                asyncio.create_task(services.network.uplink.run_forever(stop), name="vte-uplink"),
                UPLINK_STOP_SECONDS,
            )
        )
    # Everything built so far (models, view plans, dictionaries: a large, long-lived heap) leaves
    # the garbage collector's view, so its full collections stop walking it on every request
    # burst (measured as a large share of the read path's CPU; bench/README.md "reads").
    gc.freeze()
    try:
        yield
    finally:
        stop.set()
        for task, patience in loops:
            await _stopped(task, patience)
        if services.audit.pending:  # the writer was cancelled: those requests were not answered
            log.error("%d audit events not written at shutdown", services.audit.pending)
        await services.upstream.aclose()
        services.database.dispose()


async def _stopped(task: asyncio.Task[None], patience: float) -> None:
    """Wait for a loop that was asked to stop; cancel it when it takes longer than ``patience``."""
    try:
        await asyncio.wait_for(task, timeout=patience)
    except TimeoutError:
        log.error("%s did not stop within %s s; cancelled", task.get_name(), patience)
    except Exception:
        log.exception("%s ended with an error", task.get_name())
