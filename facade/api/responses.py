"""FhirResponse: FHIR JSON bodies rendered with orjson under the FHIR media type."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

FHIR_JSON = "application/fhir+json"


class FhirResponse(Response):
    """A response whose body is a FHIR resource (or any JSON) in ``application/fhir+json``."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
