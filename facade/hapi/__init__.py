"""Build, start, stop and inspect the local HAPI FHIR JPA server jar (docker/hapi)."""

from facade.hapi.launcher import HapiLauncher, HapiStatus

__all__ = ["HapiLauncher", "HapiStatus"]
