"""The facade's CapabilityStatement states security, interactions and search parameters."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from facade.settings import Settings


def test_capability_statement_describes_the_door(client: TestClient, settings: Settings) -> None:
    body = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(body)
    rest = body["rest"][0]
    security = rest["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = security["extension"][0]
    assert uris["url"].endswith("oauth-uris")
    assert uris["extension"] == [
        {"url": "token", "valueUri": f"{settings.public_base_url}/auth/token"}
    ]
    for word in ("researcher", "shifted", "qc", "AuditEvent", "RS384"):
        assert word in security["description"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert {i["code"] for i in resources["Encounter"]["interaction"]} == {
        "read",
        "vread",
        "history-instance",
        "search-type",
        "create",
        "update",
    }
    assert "create" not in {i["code"] for i in resources["AuditEvent"]["interaction"]}
    assert {"subject", "date", "_tag"} <= {p["name"] for p in resources["Encounter"]["searchParam"]}
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
