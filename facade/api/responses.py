"""FhirResponse: FHIR JSON bodies rendered with orjson under the FHIR media type."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

FHIR_JSON = "application/fhir+json"


class FhirResponse(Response):
    """A response whose body is a FHIR resource (or any JSON) in ``application/fhir+json``;
    bytes are taken as JSON already serialised."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)
