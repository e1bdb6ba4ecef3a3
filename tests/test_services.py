"""The composition root: services built once and shared, nothing made on first use, loops that log."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractContextManager, nullcontext

import pytest
from fastapi.testclient import TestClient

from facade.app import create_app
from facade.audit.events import AuditContext
from facade.audit.log import AuditLog
from facade.db import Database
from facade.errors import Issue
from facade.forward.worker import Forwarder
from facade.mapping.processor import DictionaryProcessor
from facade.services import build_services, services_of
from facade.settings import Settings


def test_one_instance_of_each_service_is_shared_by_everything_that_uses_it(
    settings: Settings, database: Database
) -> None:
    services = build_services(settings, database=database)
    assert services.database is database
    assert isinstance(services.record_processor, DictionaryProcessor)
    assert services.record_processor.engine is services.engine
    assert services.forwarder is not None and services.forwarder.engine is services.engine
    assert services.forwarder.upstream is services.upstream
    assert services.indicators.upstream is services.upstream
    assert services.gateway.callers is services.callers
    assert services.gateway.processor is services.record_processor
    assert services.gateway.audit == services.audit.native_hook
    assert services.callers.tokens is services.tokens
    assert services.tokens.registry is services.clients
    assert services.clients.institutions is services.callers.institutions is services.institutions
    assert services.excel_assets.dictionary is services.dictionary


class _OtherProcessor:
    """A record processor that is not the dictionary's (refuses everything)."""

    service_codes = frozenset({"VTE.CASE.UPLOAD"})

    def one_batch(self, context: object, records: object) -> AbstractContextManager[None]:
        return nullcontext()

    def prepare(self, context: object, index: int, record: object) -> list[Issue]:
        return [Issue(f"records[{index}]", "refused", "no")]


@pytest.mark.parametrize("processor", [None, _OtherProcessor()])
def test_no_forwarder_beside_another_processor(
    settings: Settings, database: Database, processor: _OtherProcessor | None
) -> None:
    services = build_services(settings, database=database, record_processor=processor)
    assert services.forwarder is None and services.gateway.processor is processor


def test_requests_through_every_door_create_nothing_on_the_app(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings, database=database, record_processor=None)
    services = services_of(app)
    with TestClient(app) as client:
        client.get("/healthz")
        client.get("/fhir/metadata")
        client.get("/.well-known/smart-configuration")
        client.post("/auth/token", data={"grant_type": "client_credentials"})
        client.get("/fhir/Patient")
        client.get("/indicators/definitions")
        client.post("/vte-x/v1/gateway", content=b"{}")
        client.post("/vte-x/v1/excel/import", content=b"x")
    assert list(app.state._state) == ["services"]
    assert services_of(app) is services


async def _fail(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("database hiccup")


def test_background_loops_log_the_traceback_and_go_on(
    settings: Settings,
    database: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick = settings.model_copy(update={"forward_retry_base_seconds": 0.01})
    services = build_services(quick, database=database)
    forwarder, audit = services.forwarder, services.audit
    assert isinstance(forwarder, Forwarder) and isinstance(audit, AuditLog)
    monkeypatch.setattr(forwarder, "rounds", _fail)

    def no_database(*_args: object) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(audit, "_write", no_database)
    refused: list[str] = []

    async def run_both() -> None:
        stop = asyncio.Event()
        loops = asyncio.gather(forwarder.run_forever(stop), audit.run(stop))
        await asyncio.sleep(0.1)  # several forwarder rounds, each failing
        ctx = AuditContext(door="fhir", method="GET", path="/fhir/Encounter", interaction="read")
        for _ in range(2):  # the request fails with the writer's error; the writer goes on
            try:
                await audit.record_async(ctx, 200)
            except RuntimeError as exc:
                refused.append(str(exc))
        stop.set()
        await asyncio.wait_for(loops, timeout=5)
        await services.upstream.aclose()

    with caplog.at_level(logging.ERROR):
        asyncio.run(run_both())
    assert refused == ["database hiccup", "database hiccup"]
    failed = [r for r in caplog.records if "round failed" in r.getMessage()]
    assert {r.name for r in failed} == {"facade.forward"}
    assert len(failed) > 2  # the loop kept going after the first failure
    assert all(r.exc_info and "database hiccup" in str(r.exc_info[1]) for r in failed)
    lost = [r for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(lost) == 2 and all(r.name == "facade.audit.log" for r in lost)
