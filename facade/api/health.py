"""Liveness and readiness probes for orchestrators and operators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from facade.api.deps import DatabaseDep, UpstreamDep
from facade.api.responses import FhirResponse
from facade.errors import UpstreamError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> FhirResponse:
    """The process is alive (no dependency is checked)."""
    return FhirResponse({"status": "ok"}, media_type="application/json")


@router.get("/readyz")
async def readyz(upstream: UpstreamDep, database: DatabaseDep) -> FhirResponse:
    """Ready when HAPI answers /metadata and the database is reachable and migrated; else 503 + reasons."""
    reasons: dict[str, str] = {}

    async def check_upstream() -> None:
        try:
            await upstream.metadata()
        except UpstreamError as exc:
            reasons["fhir_server"] = exc.message

    async def check_database() -> None:
        try:
            pending = await run_in_threadpool(database.pending_migrations)
        except Exception as exc:  # any driver error means "not reachable"; its type tells which
            reasons["database"] = f"database unreachable: {type(exc).__name__}"
            return
        if pending:
            reasons["database"] = f"schema not migrated; pending: {', '.join(sorted(pending))}"

    await asyncio.gather(check_upstream(), check_database())
    checks = {name: reasons.get(name, "ok") for name in ("fhir_server", "database")}
    status = "ready" if not reasons else "not ready"
    return FhirResponse(
        {"status": status, "checks": checks},
        status_code=503 if reasons else 200,
        media_type="application/json",
    )
