"""Forwarding accepted native records into the FHIR server (durable, ordered, retried)."""
