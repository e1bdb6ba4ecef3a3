"""The facade's own CapabilityStatement: what this front door offers, not what HAPI offers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from facade import __version__
from facade.settings import Settings

# Resource types the facade accepts and serves (the VTE profiles' base types plus reporting types).
SERVED_TYPES = (
    "Patient",
    "Encounter",
    "Organization",
    "RiskAssessment",
    "Observation",
    "Condition",
    "Procedure",
    "MedicationAdministration",
    "Measure",
    "MeasureReport",
    "AuditEvent",
)


def capability_statement(settings: Settings) -> dict[str, Any]:
    """Build the CapabilityStatement served at ``/fhir/metadata``."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "publisher": "VTE regional FHIR facade",
        "kind": "instance",
        "software": {"name": "vte-facade", "version": __version__},
        "implementation": {
            "description": "VTE regional interoperability facade in front of a HAPI FHIR JPA server",
            "url": f"{settings.public_base_url}/fhir",
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Hospitals write FHIR transaction/batch Bundles or use the VTE-X native gateway "
                    "at /vte-x/v1/gateway; quality managers and researchers read through this endpoint."
                ),
                "resource": [
                    {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}]}
                    for t in SERVED_TYPES
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }
