// Code-system aliases used across the guide. Our own CodeSystems are referred to by name
// (generated into terminology.generated.fsh from mappings/code-tables).
Alias: $ICD10CN = urn:oid:2.16.156.10011.2.3.3.11
Alias: $ICD9CM3CN = urn:oid:2.16.156.10011.2.3.3.12
Alias: $SCT = http://snomed.info/sct
Alias: $UCUM = http://unitsofmeasure.org
Alias: $V3ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $ConditionCategory = http://terminology.hl7.org/CodeSystem/condition-category
Alias: $ConditionVerification = http://terminology.hl7.org/CodeSystem/condition-ver-status
Alias: $ConditionClinical = http://terminology.hl7.org/CodeSystem/condition-clinical
Alias: $MeasurePopulation = http://terminology.hl7.org/CodeSystem/measure-population
Alias: $AdministrativeGender = http://hl7.org/fhir/administrative-gender
Alias: $DischargeDisposition = http://terminology.hl7.org/CodeSystem/discharge-disposition
Alias: $RiskProbability = http://terminology.hl7.org/CodeSystem/risk-probability
