"""Resources the HAPI tests post to exercise validation: a test profile of their own."""

from __future__ import annotations

from typing import Any


def birthdate_required_profile(sd_id: str, url: str) -> dict[str, Any]:
    """A minimal constraint on Patient (birthDate 1..1); HAPI generates the snapshot."""
    return {
        "resourceType": "StructureDefinition",
        "id": sd_id,
        "url": url,
        "name": "VteTestPatient",
        "status": "active",
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {
            "element": [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]
        },
    }
