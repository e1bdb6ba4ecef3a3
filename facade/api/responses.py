"""FhirResponse: FHIR JSON bodies rendered with orjson under the FHIR media type."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

FHIR_JSON = "application/fhir+json"
# What the OpenAPI declares for a FHIR route: a resource (any JSON object) as application/fhir+json.
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A FHIR resource", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
}


class FhirResponse(Response):
    """A response whose body is a FHIR resource (or any JSON) in ``application/fhir+json``;
    bytes are taken as JSON already serialised."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)


def fhir_router(**options: Any) -> APIRouter:
    """A router under ``/fhir`` whose OpenAPI declares every reply as a FHIR resource."""
    return APIRouter(
        prefix="/fhir",
        tags=["fhir"],
        default_response_class=FhirResponse,
        responses=FHIR_RESPONSES,
        **options,
    )
