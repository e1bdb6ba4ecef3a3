"""FHIR helpers: R4 models (via fhir.resources R4B), OperationOutcome and CapabilityStatement."""
