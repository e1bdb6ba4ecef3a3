"""The facade's one shared, bounded async client for the upstream HAPI FHIR server."""

from facade.upstream.client import UpstreamClient

__all__ = ["UpstreamClient"]
