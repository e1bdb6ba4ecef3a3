"""Research data sharing: catalogue, requests and grants, de-identified extracts (FHIR NDJSON,
SQL-on-FHIR tables, OMOP CDM), k-anonymity, delivery (see facade/research/README.md)."""
