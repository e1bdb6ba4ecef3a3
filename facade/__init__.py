"""VTE regional FHIR facade: native and FHIR intake, indicators and research access over HAPI FHIR."""

__version__ = "0.1.0"
