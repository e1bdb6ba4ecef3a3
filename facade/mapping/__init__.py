"""The declarative mapping engine: dictionary-driven validation, native ↔ FHIR mapping, sample records."""
