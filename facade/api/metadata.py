"""GET /fhir/metadata: the facade's CapabilityStatement."""

from __future__ import annotations

from fastapi import APIRouter

from facade.api.deps import SettingsDep
from facade.api.responses import FHIR_RESPONSES, FhirResponse
from facade.fhir.capability import capability_statement

router = APIRouter(
    prefix="/fhir",
    tags=["fhir"],
    default_response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)


@router.get("/metadata")
async def metadata(settings: SettingsDep) -> FhirResponse:
    """The facade's own CapabilityStatement."""
    return FhirResponse(capability_statement(settings))
