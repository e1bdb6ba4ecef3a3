// Front-page diagnoses and operations, and VTE events (DVT / PTE).

RuleSet: StayContext
* identifier 1..*
* subject 1..1
* subject only Reference(VtePatient)
* encounter 1..1
* encounter only Reference(VteEncounter)

Profile: VteEncounterDiagnosis
Parent: Condition
Id: vte-encounter-diagnosis
Title: "Discharge diagnosis"
Description: "One discharge diagnosis of the front page: ICD-10 (national clinical edition) code, principal or other, and 入院病情."
* insert StayContext
* obeys vte-dx-1
* category 1..1
* category = $ConditionCategory#encounter-diagnosis
* code 1..1
* code.coding 1..*
* extension contains PresentOnAdmissionExt named presentOnAdmission 1..1 and DiagnosisTypeExt named diagnosisType 1..1

// The code patterns of vte-dx-1, vte-evt-1 and vte-op-1 are the dictionary's (mappings/dictionary
// case.yaml, vte-event.yaml), character for character: tests/ig/test_code_patterns.py keeps them so.
Invariant: vte-dx-1
Description: "The diagnosis carries an ICD-10 code (system urn:oid:2.16.156.10011.2.3.3.11) shaped like one of the national clinical edition (S72.000, I10.x00, I26.900x001)"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.11' and code.matches('^[A-Z][0-9]{2}([.][0-9A-Za-z]{1,12})?$')).exists()"
Severity: #error

Profile: VteEvent
Parent: Condition
Id: vte-event
Title: "VTE event (DVT / PTE)"
Description: "A confirmed deep venous thrombosis or pulmonary thromboembolism: ICD-10 code (with SNOMED CT translation), type, site, diagnosis date-time (recordedDate), confirming study, present on admission or not, VTE-related death."
* insert StayContext
* obeys vte-evt-1
* category 1..1
* category = $ConditionCategory#encounter-diagnosis
* verificationStatus 1..1
* verificationStatus = $ConditionVerification#confirmed
* code 1..1
* code.coding 1..*
* bodySite from VteSiteVS (required)
* recordedDate 1..1
* recordedDate ^short = "Diagnosis date-time (确诊时间)"
* evidence 1..*
* evidence.code 1..*
* evidence.code from ConfirmingStudyVS (required)
* extension contains
    PresentOnAdmissionExt named presentOnAdmission 1..1 and
    VteEventTypeExt named vteEventType 1..1 and
    VteRelatedDeathExt named vteRelatedDeath 0..1

Invariant: vte-evt-1
Description: "The ICD-10 code is a VTE code of the national clinical edition (I26, I80.1-I80.3, I82.2, I82.3, I82.8, I82.9, O22.3, O87.1, O88.2; e.g. I26.0, I26.900, I26.900x001, I80.200x003); ICD-10-CM codes such as I26.92 or I82.40 are not"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.11' and code.matches('^(I26([.][09]([0-9]{2}([xX][0-9]{3})?)?)?|(I80[.][1-3]|I82[.][2389]|O22[.]3|O87[.]1|O88[.]2)([0-9]{2}([xX][0-9]{3})?)?)$')).exists()"
Severity: #error

Profile: VteOperation
Parent: Procedure
Id: vte-operation
Title: "Operation"
Description: "One operation or procedure of the front page: ICD-9-CM-3 (national clinical edition) code, start and end."
* insert StayContext
* obeys vte-op-1
* code 1..1
* code.coding 1..*
* performed[x] 1..1
* performed[x] only Period
* performedPeriod.start 1..1

Invariant: vte-op-1
Description: "The operation carries an ICD-9-CM-3 code (system urn:oid:2.16.156.10011.2.3.3.12) shaped like one of the national clinical edition (81.5200, 74.1x01)"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.12' and code.matches('^[0-9]{2}([.][0-9A-Za-z]{1,12})?$')).exists()"
Severity: #error

