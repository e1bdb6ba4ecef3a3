// Patient, Encounter and Organization: who, which stay, which reporting hospital.

Profile: VtePatient
Parent: Patient
Id: vte-patient
Title: "VTE patient"
Description: "A patient as the regional platform keeps them: identified only by the keyed regional pseudonym of the identity-document number, no name or contact details (minimum necessary)."
* obeys vte-pat-1 and vte-pat-2
* identifier 1..*
* identifier.system 1..1
* identifier.value 1..1
* identifier.type ^short = "Identity-document type the pseudonym was derived from (CV02.01.101)"
* name 0..0
* telecom 0..0
* address 0..0
* photo 0..0
* contact 0..0
* gender 1..1
* birthDate 1..1
* extension contains GbtSexExt named gbtSex 1..1

Invariant: vte-pat-1
Description: "Exactly one regional pseudonym identifier, and no identity-document number in clear"
Expression: "identifier.where(system = 'https://fhir.vte-region.cn/ig/sid/regional-patient-pseudonym').count() = 1 and identifier.where(system = 'urn:oid:2.16.156.10011.1.3').empty()"
Severity: #error

Invariant: vte-pat-2
Description: "Patient.gender agrees with the GB/T 2261.1 sex code (1, 5 male; 2, 6 female; 0, 9 unknown)"
Expression: "(extension('https://fhir.vte-region.cn/ig/StructureDefinition/gbt-2261-1-sex').where(value.code = '1' or value.code = '5').exists() implies gender = 'male') and (extension('https://fhir.vte-region.cn/ig/StructureDefinition/gbt-2261-1-sex').where(value.code = '2' or value.code = '6').exists() implies gender = 'female') and (extension('https://fhir.vte-region.cn/ig/StructureDefinition/gbt-2261-1-sex').where(value.code = '0' or value.code = '9').exists() implies gender = 'unknown')"
Severity: #error

Profile: VteEncounter
Parent: Encounter
Id: vte-encounter
Title: "VTE inpatient stay"
Description: "One inpatient stay (住院) from the medical-record front page: admission and discharge, departments and wards, ICU stays, discharge disposition (离院方式)."
* obeys vte-enc-2
* identifier 1..*
* identifier.system 1..1
* identifier.value 1..1
* class = $V3ActCode#IMP
* subject 1..1
* subject only Reference(VtePatient)
* period 1..1
* period.start 1..1
* serviceProvider 1..1
* serviceProvider only Reference(VteOrganization)
* hospitalization.dischargeDisposition ^short = "离院方式 (national code) and its FHIR translation"
* extension contains
    AdmissionDepartmentExt named admissionDepartment 0..1 and
    DischargeDepartmentExt named dischargeDepartment 0..1 and
    AdmissionWardExt named admissionWard 0..1 and
    DischargeWardExt named dischargeWard 0..1 and
    IcuStayExt named icuStay 0..*


Invariant: vte-enc-2
Description: "A finished stay has a discharge date-time and a discharge disposition"
Expression: "status = 'finished' implies (period.end.exists() and hospitalization.dischargeDisposition.exists())"
Severity: #error

Profile: VteOrganization
Parent: Organization
Id: vte-organization
Title: "VTE reporting hospital"
Description: "A hospital admitted to the regional exchange: unified social credit code, hospital grade (level 2 or above) and a VTE information system with the four assessments and indicator statistics."
* obeys vte-org-1 and vte-org-2 and vte-org-3
* identifier 1..*
* name 1..1
* extension contains HospitalGradeExt named hospitalGrade 1..1 and VteCapabilitiesExt named vteCapabilities 1..1

Invariant: vte-org-1
Description: "Admission rule: the hospital is level 2 (二级) or above"
Expression: "extension('https://fhir.vte-region.cn/ig/StructureDefinition/hospital-grade').value.code.matches('^[23][0-9]$')"
Severity: #error

Invariant: vte-org-2
Description: "Admission rule: the VTE system supports risk, bleeding, mechanical-contraindication and Wells assessments and indicator statistics"
Expression: "extension('https://fhir.vte-region.cn/ig/StructureDefinition/vte-capabilities').extension.where(value = true).count() = 5"
Severity: #error

Invariant: vte-org-3
Description: "The hospital is identified by an 18-character unified social credit code"
Expression: "identifier.where(system = 'https://fhir.vte-region.cn/ig/sid/org-uscc' and value.matches('^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$')).exists()"
Severity: #error
