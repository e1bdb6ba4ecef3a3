"""What a restore drill compares: receipts, every resource of a region by business identifier, indicators.

Shared by tests/backup/test_backup_drill.py (H2) and bench/backup_drill.py (PostgreSQL).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from facade.db import Database
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.indicators.service import engine
from facade.native.tables import IntakeRecord
from facade.settings import Settings
from facade.upstream import UpstreamClient

PERIOD = "2026-Q1"
TYPES = (
    "Patient",
    "Encounter",
    "Condition",
    "Procedure",
    "Observation",
    "RiskAssessment",
    "MedicationAdministration",
)


def receipts(database: Database) -> list[tuple[Any, ...]]:
    with database.session() as session:
        rows = session.execute(
            select(
                IntakeRecord.receipt_id,
                IntakeRecord.org_code,
                IntakeRecord.service_code,
                IntakeRecord.record_id,
                IntakeRecord.record_version,
                IntakeRecord.status,
                IntakeRecord.payload_digest,
                IntakeRecord.result_ref,
            ).order_by(IntakeRecord.receipt_id)
        )
        return [tuple(row) for row in rows]


def resources(base: str, orgs: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every resource of the region keyed by type and business identifier(s)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    with httpx.Client(timeout=120) as http:
        for rtype in TYPES:
            for org in orgs:
                url: str | None = f"{base}/{rtype}"
                params: dict[str, Any] | None = {
                    "_tag": f"{REPORTING_ORG_TAG}|{org}",
                    "_count": 500,
                }
                while url:
                    bundle = http.get(url, params=params).raise_for_status().json()
                    for entry in bundle.get("entry", []):
                        resource = entry["resource"]
                        business = "|".join(
                            sorted(
                                f"{i.get('system')}#{i.get('value')}"
                                for i in resource.get("identifier", [])
                            )
                        )
                        found[(rtype, business or resource["id"])] = resource
                    url = next(
                        (
                            link["url"]
                            for link in bundle.get("link", [])
                            if link["relation"] == "next"
                        ),
                        None,
                    )
                    params = None
    return found


def indicators(settings: Settings, orgs: list[str]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        upstream = UpstreamClient(settings)
        try:
            evaluation = await engine(settings, upstream).evaluate(PERIOD, orgs=orgs)
        finally:
            await upstream.aclose()
        return {key: value.as_dict() for key, value in evaluation.results.items()}

    return asyncio.run(run())


def snapshot(settings: Settings, database: Database, orgs: list[str]) -> tuple[Any, Any, Any]:
    """(receipts, resources, indicator values) of a site."""
    return (
        receipts(database),
        resources(settings.fhir_base_url, orgs),
        indicators(settings, orgs),
    )
