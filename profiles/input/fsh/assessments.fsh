// The four assessments of the standard's admission rule: VTE risk, bleeding risk,
// mechanical-prophylaxis contraindication, Wells.

RuleSet: AssessmentContext
* status 1..1
* subject 1..1
* subject only Reference(VtePatient)
* encounter 1..1
* encounter only Reference(VteEncounter)

Profile: VteRiskAssessment
Parent: RiskAssessment
Id: vte-risk-assessment
Title: "VTE risk assessment"
Description: "A VTE risk assessment with a validated tool (Caprini, Padua, ...): timing point, total score, risk level, items found present."
* insert AssessmentContext
* obeys vte-ra-1 and vte-ra-2
* identifier 1..*
* code 1..1
* code = VteAssessmentType#vte-risk
* method 1..1
* method from VteRiskToolVS (required)
* occurrence[x] 1..1
* occurrence[x] only dateTime
* performer 0..1
* prediction 1..1
* prediction.qualitativeRisk 1..1
* prediction.qualitativeRisk from VteRiskLevelVS (required)
* extension contains AssessmentTimingExt named timing 1..1 and TotalScoreExt named totalScore 1..1 and AssessmentItemExt named item 0..*

Invariant: vte-ra-1
Description: "Coded items of a Caprini assessment are Caprini items (C..), of a Padua assessment Padua items (P..)"
Expression: "(method.coding.where(code = '1').exists() implies extension('https://fhir.vte-region.cn/ig/StructureDefinition/assessment-item').extension('item').value.code.all(startsWith('C'))) and (method.coding.where(code = '2').exists() implies extension('https://fhir.vte-region.cn/ig/StructureDefinition/assessment-item').extension('item').value.code.all(startsWith('P')))"
Severity: #error

Invariant: vte-ra-2
Description: "The total score is not negative"
Expression: "extension('https://fhir.vte-region.cn/ig/StructureDefinition/total-score').value.all($this >= 0)"
Severity: #error

Profile: VteBleedingRiskAssessment
Parent: RiskAssessment
Id: vte-bleeding-risk-assessment
Title: "Bleeding-risk assessment"
Description: "A bleeding-risk assessment (medical IMPROVE-derived rule or surgical rule): result and factors found present."
* insert AssessmentContext
* obeys vte-bra-1
* identifier 1..*
* code 1..1
* code = VteAssessmentType#bleeding-risk
* method 1..1
* method from BleedingRiskToolVS (required)
* occurrence[x] 1..1
* occurrence[x] only dateTime
* performer 0..1
* prediction 1..1
* prediction.qualitativeRisk 1..1
* prediction.qualitativeRisk from BleedingRiskLevelVS (required)
* extension contains AssessmentTimingExt named timing 0..1 and TotalScoreExt named totalScore 0..1 and AssessmentItemExt named factor 0..*

Invariant: vte-bra-1
Description: "Coded factors of the medical rule are medical factors (M..), of the surgical rule surgical factors (S..)"
Expression: "(method.coding.where(code = '1').exists() implies extension('https://fhir.vte-region.cn/ig/StructureDefinition/assessment-item').extension('item').value.code.all(startsWith('M'))) and (method.coding.where(code = '2').exists() implies extension('https://fhir.vte-region.cn/ig/StructureDefinition/assessment-item').extension('item').value.code.all(startsWith('S')))"
Severity: #error

Profile: VteMechContraindication
Parent: Observation
Id: vte-mech-contraindication
Title: "Mechanical-prophylaxis contraindication assessment"
Description: "Whether mechanical prophylaxis is contraindicated, with the reasons (one component each)."
* insert AssessmentContext
* obeys vte-mci-1 and vte-mci-2
* identifier 1..*
* code = VteAssessmentType#mech-contraindication
* effective[x] 1..1
* effective[x] only dateTime
* value[x] 1..1
* value[x] only boolean
* component.code from MechContraindicationReasonVS (required)
* component.value[x] only string
* component.value[x] ^short = "Free-text detail (for 'other')"
* extension contains AssessmentTimingExt named timing 0..1

Invariant: vte-mci-1
Description: "A contraindication found (value true) names at least one reason"
Expression: "value = true implies component.exists()"
Severity: #error

Invariant: vte-mci-2
Description: "No reasons are given when no contraindication was found"
Expression: "value = false implies component.empty()"
Severity: #error

ValueSet: WellsScoreCodeVS
Id: wells-score-code
Title: "Wells score codes"
Description: "Observation codes of the Wells scores."
* VteAssessmentType#wells-dvt
* VteAssessmentType#wells-pe

Profile: VteWellsScore
Parent: Observation
Id: vte-wells-score
Title: "Wells score"
Description: "A Wells score for DVT or PE: variant, score and the interpretation the variant defines."
* insert AssessmentContext
* obeys vte-wells-1 and vte-wells-2
* identifier 1..*
* code from WellsScoreCodeVS (required)
* method 1..1
* method from WellsVariantVS (required)
* effective[x] 1..1
* effective[x] only dateTime
* value[x] 1..1
* value[x] only Quantity
* valueQuantity.value 1..1
* valueQuantity.system = $UCUM
* valueQuantity.code = #{score}
* interpretation 1..1
* interpretation from WellsInterpretationVS (required)

Invariant: vte-wells-1
Description: "The variant scores what the code says: DVT variants (1, 2) for wells-dvt, PE variants (3, 4, 5) for wells-pe"
Expression: "(code.coding.where(code = 'wells-dvt').exists() implies method.coding.where(code = '1' or code = '2').exists()) and (code.coding.where(code = 'wells-pe').exists() implies method.coding.where(code = '3' or code = '4' or code = '5').exists())"
Severity: #error

Invariant: vte-wells-2
Description: "Two-level variants (1, 3, 5) conclude likely/unlikely (4, 5); three-level variants (2, 4) conclude low/moderate/high (1, 2, 3)"
Expression: "(method.coding.where(code = '1' or code = '3' or code = '5').exists() implies interpretation.coding.where(code = '4' or code = '5').exists()) and (method.coding.where(code = '2' or code = '4').exists() implies interpretation.coding.where(code = '1' or code = '2' or code = '3').exists())"
Severity: #error
