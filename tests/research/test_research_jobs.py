"""Extraction jobs without HAPI: a failed run is recorded with its reason and leaves no files;
nothing is served before a run is done, and never to another researcher."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from facade.db import Database
from facade.errors import Forbidden, NotFound
from facade.frontdoor.context import FrontDoor
from facade.indicators.service import catalog
from facade.research import jobs, lifecycle
from facade.research.lifecycle import Actor
from facade.research.models import DecisionIn, RequestIn
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient

RESEARCHER = Actor("r1", "researcher")
STEWARD = Actor("s1", "admin")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Settings, Database]:
    settings = ensure_secrets(
        Settings(
            environment="test",
            var_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'j.db'}",
            fhir_base_url="http://127.0.0.1:9/fhir",  # nothing listens on the discard port
            upstream_connect_timeout_seconds=1.0,
        )
    )
    database = Database(settings.database_url)
    database.upgrade()
    return settings, database


def _granted(settings: Settings, database: Database) -> str:
    body = RequestIn.model_validate(
        {
            "project": "jobs",
            "purpose": "what a failed extraction leaves",
            "ethicsApproval": "IRB-1",
            "period": "2026-Q1",
            "cohort": {},
            "variables": ["stay.admitted"],
        }
    )
    request = lifecycle.submit(database, RESEARCHER, body)
    decision = DecisionIn.model_validate({"decision": "approve", "reason": "fine"})
    lifecycle.decide(
        database, settings, catalog(settings).definitions, STEWARD, request["id"], decision
    )
    return str(request["id"])


def test_a_run_that_cannot_reach_hapi_fails_with_its_reason_and_no_files(
    setup: tuple[Settings, Database],
) -> None:
    settings, database = setup
    queued = jobs.queue(database, RESEARCHER, _granted(settings, database))
    with pytest.raises(NotFound, match="no files yet"):
        jobs.download(database, RESEARCHER, queued["id"], "manifest.json")

    async def run() -> dict:  # type: ignore[type-arg]
        upstream = UpstreamClient(settings)
        try:
            job = jobs.claim(database)
            assert job is not None and jobs.claim(database) is None  # leased: not handed out twice
            return await jobs.execute(settings, database, upstream, FrontDoor(settings), job)
        finally:
            await upstream.aclose()

    result = asyncio.run(run())
    assert result["state"] == "failed" and "unreachable" in result["error"]
    assert not any(settings.research_extract_dir.glob("*"))
    with pytest.raises(NotFound):
        jobs.read(database, Actor("r2", "researcher"), queued["id"])
    with pytest.raises(NotFound, match="no files yet"):
        jobs.download(database, RESEARCHER, queued["id"], "fhir/Patient.ndjson")


def test_no_extract_without_a_live_grant(setup: tuple[Settings, Database]) -> None:
    settings, database = setup
    request_id = _granted(settings, database)
    lifecycle.revoke(database, STEWARD, request_id, "withdrawn")
    with pytest.raises(Forbidden, match="revoked"):
        jobs.queue(database, RESEARCHER, request_id)
    with pytest.raises(NotFound):  # another researcher cannot even see it
        jobs.queue(database, Actor("r2", "researcher"), request_id)
