// Prophylaxis: basic and mechanical measures as Procedures, drugs as MedicationAdministrations.

RuleSet: ProphylaxisProcedure
* insert StayContext
* obeys vte-pro-1
* category 1..1
* code 1..1
* extension contains OrderDateTimeExt named orderDateTime 1..1
* performed[x] only Period

Invariant: vte-pro-1
Description: "A measure that was carried out (status other than not-done) has an execution start"
Expression: "status != 'not-done' implies performed.start.exists()"
Severity: #error

Profile: VteMechanicalProphylaxis
Parent: Procedure
Id: vte-mechanical-prophylaxis
Title: "Mechanical prophylaxis"
Description: "Mechanical VTE prophylaxis with a device (GCS, IPC, VFP): order time, execution start and end, status."
* insert ProphylaxisProcedure
* category = ProphylaxisCategory#2
* code from MechanicalDeviceVS (required)

Profile: VteBasicProphylaxis
Parent: Procedure
Id: vte-basic-prophylaxis
Title: "Basic prophylaxis"
Description: "A basic VTE prophylaxis measure (early mobilisation, ankle pumps, ...): order time, execution, status."
* insert ProphylaxisProcedure
* category = ProphylaxisCategory#1
* code from BasicMeasureVS (required)

Profile: VtePharmacologicalProphylaxis
Parent: MedicationAdministration
Id: vte-pharmacological-prophylaxis
Title: "Pharmacological prophylaxis"
Description: "A prophylactic anticoagulant: drug, dose, route, frequency, order time, execution period, status."
* identifier 1..*
* category 1..1
* category = ProphylaxisCategory#3
* medication[x] only CodeableConcept
* medicationCodeableConcept from ProphylaxisDrugVS (required)
* subject only Reference(VtePatient)
* context 1..1
* context only Reference(VteEncounter)
* effective[x] only Period
* effectivePeriod.start 1..1
* dosage 1..1
* dosage.dose 1..1
* dosage.dose.value 1..1
* dosage.route 1..1
* dosage.route from DrugRouteVS (required)
* dosage.extension contains DoseFrequencyExt named frequency 0..1
* extension contains OrderDateTimeExt named orderDateTime 1..1

