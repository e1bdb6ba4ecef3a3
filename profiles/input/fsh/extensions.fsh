// Extensions of the guide. Each carries what the standard reports and core FHIR has no element for.

Extension: GbtSexExt
Id: gbt-2261-1-sex
Title: "Sex (GB/T 2261.1)"
Description: "The national sex code as reported; Patient.gender holds its FHIR translation."
* ^context.type = #element
* ^context.expression = "Patient"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from Gbt22611SexVS (required)

Extension: AdmissionDepartmentExt
Id: admission-department
Title: "Admission department"
Description: "Department (科室) the patient was admitted to; code from the hospital's own department table."
* ^context.type = #element
* ^context.expression = "Encounter"
* value[x] only Coding
* valueCoding 1..1

Extension: DischargeDepartmentExt
Id: discharge-department
Title: "Discharge department"
Description: "Department (科室) the patient was discharged from; indicators are stratified by it."
* ^context.type = #element
* ^context.expression = "Encounter"
* value[x] only Coding
* valueCoding 1..1

Extension: AdmissionWardExt
Id: admission-ward
Title: "Admission ward"
Description: "Ward (病区) of admission; code from the hospital's own table."
* ^context.type = #element
* ^context.expression = "Encounter"
* value[x] only Coding
* valueCoding 1..1

Extension: DischargeWardExt
Id: discharge-ward
Title: "Discharge ward"
Description: "Ward (病区) of discharge; code from the hospital's own table."
* ^context.type = #element
* ^context.expression = "Encounter"
* value[x] only Coding
* valueCoding 1..1

Extension: IcuStayExt
Id: icu-stay
Title: "ICU stay"
Description: "One stay in an intensive-care unit during the encounter (ICU in/out date-times)."
* ^context.type = #element
* ^context.expression = "Encounter"
* extension contains unit 1..1 and period 1..1
* extension[unit].value[x] only string
* extension[unit] ^short = "ICU name or type (e.g. 综合ICU, CCU)"
* extension[period].value[x] only Period
* extension[period].valuePeriod.start 1..1


Extension: PresentOnAdmissionExt
Id: present-on-admission
Title: "Condition on admission (入院病情)"
Description: "Whether the condition was present on admission, per the medical-record front page; 4 (无) marks a condition that arose in hospital."
* ^context[0].type = #element
* ^context[0].expression = "Condition"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from AdmissionConditionVS (required)

Extension: DiagnosisTypeExt
Id: diagnosis-type
Title: "Discharge diagnosis type"
Description: "Principal or other discharge diagnosis."
* ^context.type = #element
* ^context.expression = "Condition"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from DiagnosisTypeVS (required)

Extension: VteEventTypeExt
Id: vte-event-type
Title: "VTE event type"
Description: "DVT, PTE, or both."
* ^context.type = #element
* ^context.expression = "Condition"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VteEventTypeVS (required)

Extension: VteRelatedDeathExt
Id: vte-related-death
Title: "VTE-related death"
Description: "True when the patient died and the death is attributed to this VTE."
* ^context.type = #element
* ^context.expression = "Condition"
* value[x] only boolean
* valueBoolean 1..1

Extension: AssessmentTimingExt
Id: assessment-timing
Title: "Assessment timing point"
Description: "When in the stay the assessment was done (admission, pre-op, post-op, transfer, change, before discharge)."
* ^context[0].type = #element
* ^context[0].expression = "RiskAssessment"
* ^context[1].type = #element
* ^context[1].expression = "Observation"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from AssessmentTimingVS (required)

Extension: TotalScoreExt
Id: total-score
Title: "Total score"
Description: "Total score of the assessment scale (RiskAssessment has no element for a score)."
* ^context.type = #element
* ^context.expression = "RiskAssessment"
* value[x] only decimal
* valueDecimal 1..1

Extension: AssessmentItemExt
Id: assessment-item
Title: "Assessment item"
Description: "One item (risk factor, bleeding factor) found present, coded from the scale's item table or as text."
* ^context.type = #element
* ^context.expression = "RiskAssessment"
* obeys vte-item-1
* extension contains item 0..1 and text 0..1 and points 0..1
* extension[item].value[x] only Coding
* extension[text].value[x] only string
* extension[points].value[x] only decimal

Invariant: vte-item-1
Description: "An assessment item has a code or a text"
Expression: "extension('item').exists() or extension('text').exists()"
Severity: #error

Extension: OrderDateTimeExt
Id: order-datetime
Title: "Order date-time"
Description: "When the prophylaxis was ordered (医嘱开立时间); timeliness indicators measure from it."
* ^context[0].type = #element
* ^context[0].expression = "Procedure"
* ^context[1].type = #element
* ^context[1].expression = "MedicationAdministration"
* value[x] only dateTime
* valueDateTime 1..1

Extension: DoseFrequencyExt
Id: dose-frequency
Title: "Dosing frequency"
Description: "How often the drug is given (MedicationAdministration.dosage has no timing)."
* ^context.type = #element
* ^context.expression = "MedicationAdministration.dosage"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from DoseFrequencyVS (required)

Extension: HospitalGradeExt
Id: hospital-grade
Title: "Hospital grade"
Description: "Level and grade of the hospital (医院等级)."
* ^context.type = #element
* ^context.expression = "Organization"
* value[x] only Coding
* valueCoding 1..1
* valueCoding from HospitalGradeVS (required)

Extension: VteCapabilitiesExt
Id: vte-capabilities
Title: "VTE information-system capabilities"
Description: "Functions the hospital's VTE information system supports; the standard's admission rule requires all five."
* ^context.type = #element
* ^context.expression = "Organization"
* extension contains riskAssessment 1..1 and bleedingAssessment 1..1 and mechContraindicationAssessment 1..1 and wellsAssessment 1..1 and indicatorStatistics 1..1
* extension[riskAssessment].value[x] only boolean
* extension[riskAssessment] ^short = "VTE risk assessment"
* extension[bleedingAssessment].value[x] only boolean
* extension[bleedingAssessment] ^short = "Bleeding-risk assessment"
* extension[mechContraindicationAssessment].value[x] only boolean
* extension[mechContraindicationAssessment] ^short = "Mechanical-prophylaxis contraindication assessment"
* extension[wellsAssessment].value[x] only boolean
* extension[wellsAssessment] ^short = "Wells assessment"
* extension[indicatorStatistics].value[x] only boolean
* extension[indicatorStatistics] ^short = "Quality-indicator statistics"
