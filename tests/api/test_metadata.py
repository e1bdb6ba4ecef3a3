"""The facade's own CapabilityStatement."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from facade import __version__


def test_metadata_is_a_valid_capability_statement_about_the_facade(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    statement = CapabilityStatement.model_validate(body)
    assert statement.fhirVersion == "4.0.1"
    assert body["software"] == {"name": "vte-facade", "version": __version__}
    assert body["implementation"]["url"].endswith("/fhir")
    types = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"Patient", "Encounter", "RiskAssessment", "MeasureReport"} <= types
