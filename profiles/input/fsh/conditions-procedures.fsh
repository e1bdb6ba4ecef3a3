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

Invariant: vte-dx-1
Description: "The diagnosis carries an ICD-10 code (system urn:oid:2.16.156.10011.2.3.3.11)"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.11' and code.exists()).exists()"
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
Description: "The ICD-10 code is a VTE code (I26, I80.1-I80.3, I82.2-I82.9, O22.3, O87.1, O88.2)"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.11' and code.matches('^(I26|I80[.][1-3]|I82[.][2-9]|O22[.]3|O87[.]1|O88[.]2)')).exists()"
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
Description: "The operation carries an ICD-9-CM-3 code (system urn:oid:2.16.156.10011.2.3.3.12)"
Expression: "code.coding.where(system = 'urn:oid:2.16.156.10011.2.3.3.12' and code.exists()).exists()"
Severity: #error

