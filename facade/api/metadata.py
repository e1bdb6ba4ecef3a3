"""GET /fhir/metadata: the facade's CapabilityStatement."""

from __future__ import annotations

from facade.api.deps import SettingsDep
from facade.api.responses import FhirResponse, fhir_router
from facade.fhir.capability import capability_statement

router = fhir_router()


@router.get("/metadata")
async def metadata(settings: SettingsDep) -> FhirResponse:
    """The facade's own CapabilityStatement."""
    return FhirResponse(capability_statement(settings))
