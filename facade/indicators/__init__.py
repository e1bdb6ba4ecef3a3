"""Quality indicators computed through FHIR search and published as MeasureReports."""
