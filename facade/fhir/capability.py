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


# Search parameters documented per type (HAPI serves the standard set; these are the ones the
# facade's clients are expected to use). Date parameters are refused for the research role.
_COMMON_PARAMS = (("_id", "token"), ("_tag", "token"), ("_lastUpdated", "date"))
SEARCH_PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "Patient": (("identifier", "token"), ("gender", "token"), ("birthdate", "date")),
    "Encounter": (
        ("identifier", "token"),
        ("subject", "reference"),
        ("patient", "reference"),
        ("status", "token"),
        ("class", "token"),
        ("date", "date"),
    ),
    "Organization": (("identifier", "token"), ("name", "string")),
    "RiskAssessment": (
        ("subject", "reference"),
        ("patient", "reference"),
        ("encounter", "reference"),
        ("method", "token"),
        ("probability", "number"),
        ("date", "date"),
    ),
    "Observation": (
        ("subject", "reference"),
        ("patient", "reference"),
        ("encounter", "reference"),
        ("code", "token"),
        ("category", "token"),
        ("status", "token"),
        ("value-quantity", "quantity"),
        ("date", "date"),
    ),
    "Condition": (
        ("subject", "reference"),
        ("patient", "reference"),
        ("encounter", "reference"),
        ("code", "token"),
        ("category", "token"),
        ("clinical-status", "token"),
        ("verification-status", "token"),
        ("onset-date", "date"),
    ),
    "Procedure": (
        ("subject", "reference"),
        ("patient", "reference"),
        ("encounter", "reference"),
        ("code", "token"),
        ("category", "token"),
        ("status", "token"),
        ("date", "date"),
    ),
    "MedicationAdministration": (
        ("subject", "reference"),
        ("patient", "reference"),
        ("code", "token"),
        ("status", "token"),
        ("effective-time", "date"),
    ),
    "Measure": (("url", "uri"), ("identifier", "token"), ("name", "string"), ("status", "token")),
    "MeasureReport": (
        ("measure", "reference"),
        ("subject", "reference"),
        ("status", "token"),
        ("period", "date"),
        ("reporter", "reference"),
    ),
    "AuditEvent": (
        ("date", "date"),
        ("altid", "token"),
        ("entity-name", "string"),
        ("type", "token"),
        ("subtype", "token"),
        ("outcome", "token"),
        ("action", "token"),
        ("site", "token"),
    ),
}
# Types hospitals write (the others are read-only through this door).
WRITABLE_TYPES = frozenset(
    {
        "Patient",
        "Encounter",
        "Organization",
        "RiskAssessment",
        "Observation",
        "Condition",
        "Procedure",
        "MedicationAdministration",
    }
)
SECURITY_DOCUMENTATION = (
    "SMART Backend Services (client_credentials, private_key_jwt with RS384 or ES384): register a "
    "public JWKS with `vte-facade client register`, then get a short-lived bearer token at the token "
    "endpoint. Roles: hospital (writes and reads its own organisation's data, as stored), qc (reads "
    "every organisation, pseudonymised: names and contacts removed, record identifiers replaced by "
    "keyed tokens, the regional patient pseudonym kept), researcher (reads de-identified data: no "
    "identifier but a research pseudonym, birth date as year, every date of a patient shifted by one "
    "secret per-patient offset so intervals are kept, free text and narrative removed, resource ids "
    "encrypted; no date search parameters and no history), auditor (reads AuditEvent), admin "
    "(organisation registry). Every request, refused ones included, is recorded as an AuditEvent."
)


def _resource_entry(resource_type: str) -> dict[str, Any]:
    interactions = ["read", "vread", "history-instance", "search-type"]
    if resource_type in WRITABLE_TYPES:
        interactions += ["create", "update"]
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "versioned",
        "readHistory": True,
        "conditionalCreate": resource_type in WRITABLE_TYPES,
        "conditionalUpdate": resource_type in WRITABLE_TYPES,
        "searchInclude": ["*"],
        "searchRevInclude": ["*"],
        "searchParam": [
            {"name": name, "type": kind}
            for name, kind in (*_COMMON_PARAMS, *SEARCH_PARAMS.get(resource_type, ()))
        ],
    }
    return entry


def capability_statement(settings: Settings) -> dict[str, Any]:
    """Build the CapabilityStatement served at ``/fhir/metadata``."""
    base = settings.public_base_url
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "publisher": "VTE regional FHIR facade",
        "kind": "instance",
        "software": {"name": "vte-facade", "version": __version__},
        "implementation": {
            "description": "VTE regional interoperability facade in front of a HAPI FHIR JPA server",
            "url": f"{base}/fhir",
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
                "security": {
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": SECURITY_DOCUMENTATION,
                },
                "resource": [_resource_entry(t) for t in SERVED_TYPES],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "searchParam": [
                    {"name": "_count", "type": "number"},
                    {
                        "name": "_summary",
                        "type": "token",
                        "documentation": "count, true, false, data",
                    },
                    {"name": "_elements", "type": "string"},
                    {"name": "_include", "type": "special"},
                    {"name": "_revinclude", "type": "special"},
                ],
            }
        ],
    }
