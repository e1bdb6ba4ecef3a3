// One valid example per profile: one stay of one patient at one hospital (org code 12330100470116614F).
// Identifier systems follow facade/fhir/naming.py; invalid examples are derived from these by
// profiles/invalid-examples.yaml.

Alias: $ORG = https://fhir.vte-region.cn/ig/sid/org-uscc
Alias: $PSEUDONYM = https://fhir.vte-region.cn/ig/sid/regional-patient-pseudonym
Alias: $TENANT = https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization
Alias: $DEPT = https://fhir.vte-region.cn/ig/CodeSystem/department/12330100470116614F
Alias: $REC_CASE = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/case
Alias: $REC_RISK = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/vte-risk
Alias: $REC_BLEED = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/bleeding-risk
Alias: $REC_MCI = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/mech-contraindication
Alias: $REC_WELLS = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/wells
Alias: $REC_PRO = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/prophylaxis
Alias: $REC_EVT = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/vte-event
Alias: $REC_ORG = https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/organization

RuleSet: Tenant
* meta.tag[0].system = $TENANT
* meta.tag[0].code = #12330100470116614F

Instance: vte-organization-example
InstanceOf: VteOrganization
Title: "A tertiary hospital admitted to the exchange"
Usage: #example
* insert Tenant
* identifier[0].system = $ORG
* identifier[0].value = "12330100470116614F"
* identifier[1].system = $REC_ORG
* identifier[1].value = "ORG-2026-01"
* active = true
* name = "杭州市第一人民医院"
* extension[hospitalGrade].valueCoding = HospitalGrade#31 "三级甲等"
* extension[vteCapabilities].extension[riskAssessment].valueBoolean = true
* extension[vteCapabilities].extension[bleedingAssessment].valueBoolean = true
* extension[vteCapabilities].extension[mechContraindicationAssessment].valueBoolean = true
* extension[vteCapabilities].extension[wellsAssessment].valueBoolean = true
* extension[vteCapabilities].extension[indicatorStatistics].valueBoolean = true

Instance: vte-patient-example
InstanceOf: VtePatient
Title: "A patient known only by the regional pseudonym"
Usage: #example
* insert Tenant
* identifier[0].system = $PSEUDONYM
* identifier[0].value = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
* identifier[0].type = Cv0201101IdDocumentType#01 "居民身份证"
* gender = #female
* birthDate = "1956-03-14"
* extension[gbtSex].valueCoding = Gbt22611Sex#2 "女性"

Instance: vte-encounter-example
InstanceOf: VteEncounter
Title: "A finished inpatient stay with an ICU stay"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_CASE
* identifier[0].value = "ZY2026000123"
* status = #finished
* class = $V3ActCode#IMP
* subject = Reference(vte-patient-example)
* serviceProvider = Reference(vte-organization-example)
* period.start = "2026-01-05T09:30:00+08:00"
* period.end = "2026-01-19T10:00:00+08:00"
* hospitalization.dischargeDisposition.coding[0] = Cv0600226DischargeDisposition#1 "医嘱离院"
* hospitalization.dischargeDisposition.coding[1] = $DischargeDisposition#home
* extension[admissionDepartment].valueCoding = $DEPT#0301 "骨科"
* extension[dischargeDepartment].valueCoding = $DEPT#0301 "骨科"
* extension[admissionWard].valueCoding = $DEPT#W12 "骨科二病区"
* extension[dischargeWard].valueCoding = $DEPT#W12 "骨科二病区"
* extension[icuStay].extension[unit].valueString = "外科ICU"
* extension[icuStay].extension[period].valuePeriod.start = "2026-01-07T14:00:00+08:00"
* extension[icuStay].extension[period].valuePeriod.end = "2026-01-09T08:00:00+08:00"

Instance: vte-encounter-diagnosis-example
InstanceOf: VteEncounterDiagnosis
Title: "Principal diagnosis: femoral neck fracture, present on admission"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_CASE
* identifier[0].value = "ZY2026000123/diagnoses/1"
* category = $ConditionCategory#encounter-diagnosis
* code.coding[0] = $ICD10CN#S72.000 "股骨颈骨折"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* extension[presentOnAdmission].valueCoding = AdmissionCondition#1 "有"
* extension[diagnosisType].valueCoding = DiagnosisType#1 "主要诊断"

Instance: vte-operation-example
InstanceOf: VteOperation
Title: "Hip arthroplasty"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_CASE
* identifier[0].value = "ZY2026000123/operations/1"
* status = #completed
* code.coding[0] = $ICD9CM3CN#81.5200 "部分髋关节置换"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* performedPeriod.start = "2026-01-07T08:40:00+08:00"
* performedPeriod.end = "2026-01-07T10:55:00+08:00"

Instance: vte-risk-assessment-example
InstanceOf: VteRiskAssessment
Title: "Caprini assessment on admission: high risk"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_RISK
* identifier[0].value = "RA-000981"
* status = #final
* code = VteAssessmentType#vte-risk "VTE风险评估"
* method = VteRiskTool#1 "Caprini评分"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* occurrenceDateTime = "2026-01-05T15:10:00+08:00"
* performer.identifier.system = "https://fhir.vte-region.cn/ig/sid/record/12330100470116614F/staff"
* performer.identifier.value = "N0457"
* prediction[0].qualitativeRisk.coding[0] = VteRiskLevel#4 "高危"
* extension[timing].valueCoding = AssessmentTiming#1 "入院24小时内"
* extension[totalScore].valueDecimal = 8
* extension[item][0].extension[item].valueCoding = VteRiskFactor#C21 "年龄61-74岁"
* extension[item][0].extension[points].valueDecimal = 2
* extension[item][1].extension[item].valueCoding = VteRiskFactor#C53 "髋关节、骨盆或下肢骨折"
* extension[item][1].extension[points].valueDecimal = 5
* extension[item][2].extension[item].valueCoding = VteRiskFactor#C04 "肥胖(BMI>25)"
* extension[item][2].extension[points].valueDecimal = 1

Instance: vte-bleeding-risk-assessment-example
InstanceOf: VteBleedingRiskAssessment
Title: "Surgical bleeding-risk assessment: low"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_BLEED
* identifier[0].value = "BA-000455"
* status = #final
* code = VteAssessmentType#bleeding-risk "出血风险评估"
* method = BleedingRiskTool#2 "外科住院患者出血风险评估"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* occurrenceDateTime = "2026-01-05T15:20:00+08:00"
* prediction[0].qualitativeRisk.coding[0] = BleedingRiskLevel#1 "低危"
* extension[timing].valueCoding = AssessmentTiming#2 "术前"

Instance: vte-mech-contraindication-example
InstanceOf: VteMechContraindication
Title: "Mechanical prophylaxis contraindicated on the left leg"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_MCI
* identifier[0].value = "MC-000120"
* status = #final
* code = VteAssessmentType#mech-contraindication "机械预防禁忌证评估"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* effectiveDateTime = "2026-01-05T15:25:00+08:00"
* valueBoolean = true
* component[0].code = MechContraindicationReason#03 "下肢局部情况异常(皮炎、坏疽、近期植皮、开放伤口)"
* component[0].valueString = "左小腿开放伤口"

Instance: vte-wells-score-example
InstanceOf: VteWellsScore
Title: "Wells DVT (2003): DVT likely"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_WELLS
* identifier[0].value = "WS-000031"
* status = #final
* code = VteAssessmentType#wells-dvt "DVT Wells评分"
* method = WellsVariant#1 "DVT Wells二分类(2003)"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* effectiveDateTime = "2026-01-10T09:00:00+08:00"
* valueQuantity = 3 '{score}'
* interpretation = WellsInterpretation#4 "可能"

Instance: vte-mechanical-prophylaxis-example
InstanceOf: VteMechanicalProphylaxis
Title: "Intermittent pneumatic compression, completed"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_PRO
* identifier[0].value = "PX-001201"
* status = #completed
* category = ProphylaxisCategory#2 "机械预防"
* code = MechanicalDevice#2 "间歇充气加压装置(IPC)"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* performedPeriod.start = "2026-01-05T16:00:00+08:00"
* performedPeriod.end = "2026-01-12T16:00:00+08:00"
* extension[orderDateTime].valueDateTime = "2026-01-05T15:40:00+08:00"

Instance: vte-basic-prophylaxis-example
InstanceOf: VteBasicProphylaxis
Title: "Ankle-pump exercises, in progress"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_PRO
* identifier[0].value = "PX-001202"
* status = #in-progress
* category = ProphylaxisCategory#1 "基础预防"
* code = BasicMeasure#2 "踝泵运动"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* performedPeriod.start = "2026-01-05T16:00:00+08:00"
* extension[orderDateTime].valueDateTime = "2026-01-05T15:40:00+08:00"

Instance: vte-pharmacological-prophylaxis-example
InstanceOf: VtePharmacologicalProphylaxis
Title: "Enoxaparin 40 mg s.c. once daily"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_PRO
* identifier[0].value = "PX-001203"
* status = #completed
* category = ProphylaxisCategory#3 "药物预防"
* medicationCodeableConcept = ProphylaxisDrug#01 "依诺肝素"
* medicationCodeableConcept.text = "依诺肝素钠注射液 0.4ml:4000AxaIU"
* subject = Reference(vte-patient-example)
* context = Reference(vte-encounter-example)
* effectivePeriod.start = "2026-01-08T08:00:00+08:00"
* effectivePeriod.end = "2026-01-18T08:00:00+08:00"
* dosage.route = DrugRoute#401 "皮下注射"
* dosage.dose = 40 'mg' "mg"
* dosage.extension[frequency].valueCoding = DoseFrequency#QD "每日一次"
* extension[orderDateTime].valueDateTime = "2026-01-07T20:00:00+08:00"

Instance: vte-event-example
InstanceOf: VteEvent
Title: "Hospital-acquired left-leg DVT confirmed by compression ultrasound"
Usage: #example
* insert Tenant
* identifier[0].system = $REC_EVT
* identifier[0].value = "EV-000007"
* category = $ConditionCategory#encounter-diagnosis
* verificationStatus = $ConditionVerification#confirmed
* clinicalStatus = $ConditionClinical#active
* code.coding[0] = $ICD10CN#I80.200 "下肢深静脉血栓形成"
* code.coding[1] = $SCT#128053003 "Deep venous thrombosis"
* bodySite = VteSite#02 "左下肢远端深静脉"
* subject = Reference(vte-patient-example)
* encounter = Reference(vte-encounter-example)
* recordedDate = "2026-01-10T11:30:00+08:00"
* evidence[0].code = ConfirmingStudy#1 "下肢静脉加压超声"
* extension[presentOnAdmission].valueCoding = AdmissionCondition#4 "无"
* extension[vteEventType].valueCoding = VteEventType#1 "深静脉血栓形成(DVT)"
* extension[vteRelatedDeath].valueBoolean = false

Instance: vte-summary-measurereport-example
InstanceOf: VteSummaryMeasureReport
Title: "VTE risk-assessment rate (A1), January 2026, stratified as the Measure defines"
Usage: #example
* insert Tenant
* status = #complete
* type = #summary
* measure = "https://fhir.vte-region.cn/ig/Measure/vte-risk-assessment-rate"
* date = "2026-02-01T02:00:00+08:00"
* reporter = Reference(vte-organization-example)
* period.start = "2026-01-01T00:00:00+08:00"
* period.end = "2026-01-31T23:59:59+08:00"
* group[0].id = "A1"
* insert Populations(group[0], 1250, 1250, 1190)
* group[0].population[0].id = "initial-population"
* group[0].population[1].id = "denominator"
* group[0].population[2].id = "numerator"
* group[0].measureScore.value = 0.952
* group[0].stratifier[0].code = IndicatorStratifier#hospital
* group[0].stratifier[0].stratum[0].value.text = "12330100470116614F"
* insert Populations(group[0].stratifier[0].stratum[0], 1250, 1250, 1190)
* group[0].stratifier[0].stratum[0].measureScore.value = 0.952
* group[0].stratifier[1].code = IndicatorStratifier#discharge-department
* group[0].stratifier[1].stratum[0].value.text = "0301"
* insert Populations(group[0].stratifier[1].stratum[0], 210, 210, 205)
* group[0].stratifier[1].stratum[0].measureScore.value = 0.976
* group[0].stratifier[1].stratum[1].value.text = "0402"
* insert Populations(group[0].stratifier[1].stratum[1], 1040, 1040, 985)
* group[0].stratifier[1].stratum[1].measureScore.value = 0.947
* group[0].stratifier[2].code = IndicatorStratifier#discharge-month
* group[0].stratifier[2].stratum[0].value.text = "2026-01"
* insert Populations(group[0].stratifier[2].stratum[0], 1250, 1250, 1190)
* group[0].stratifier[2].stratum[0].measureScore.value = 0.952

Instance: vte-summary-measurereport-empty-denominator-example
InstanceOf: VteSummaryMeasureReport
Title: "Pharmacological prophylaxis rate (B2), February 2026: stays, but nobody in the denominator"
Usage: #example
* insert Tenant
* status = #complete
* type = #summary
* measure = "https://fhir.vte-region.cn/ig/Measure/pharmacological-prophylaxis-rate"
* date = "2026-03-01T02:00:00+08:00"
* reporter = Reference(vte-organization-example)
* period.start = "2026-02-01T00:00:00+08:00"
* period.end = "2026-02-28T23:59:59+08:00"
* group[0].id = "B2"
* insert Populations(group[0], 3, 0, 0)
* group[0].population[0].id = "initial-population"
* group[0].population[1].id = "denominator"
* group[0].population[2].id = "numerator"
* group[0].measureScore.extension[0].url = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
* group[0].measureScore.extension[0].valueCode = #not-applicable
* group[0].stratifier[0].code = IndicatorStratifier#hospital
* group[0].stratifier[0].stratum[0].value.text = "12330100470116614F"
* insert Populations(group[0].stratifier[0].stratum[0], 3, 0, 0)
* group[0].stratifier[0].stratum[0].measureScore.extension[0].url = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
* group[0].stratifier[0].stratum[0].measureScore.extension[0].valueCode = #not-applicable
* group[0].stratifier[1].code = IndicatorStratifier#discharge-department
* group[0].stratifier[2].code = IndicatorStratifier#discharge-month

// Population ids (= the Measure's) only at group level: element ids are unique per resource.
RuleSet: Populations(at, initial, denominator, numerator)
* {at}.population[0].code = $MeasurePopulation#initial-population
* {at}.population[0].count = {initial}
* {at}.population[1].code = $MeasurePopulation#denominator
* {at}.population[1].count = {denominator}
* {at}.population[2].code = $MeasurePopulation#numerator
* {at}.population[2].count = {numerator}

Instance: vte-dq-measurereport-example
InstanceOf: VteDataQualityMeasureReport
Title: "Data quality of a hospital, January 2026 (every group, two rules shown)"
Usage: #example
* insert Tenant
* status = #complete
* type = #summary
* measure = "https://fhir.vte-region.cn/ig/Measure/vte-data-quality"
* date = "2026-02-01T02:00:00+08:00"
* reporter = Reference(vte-organization-example)
* period.start = "2026-01-01T00:00:00+08:00"
* period.end = "2026-01-31T23:59:59+08:00"
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "overall"
* group[0].code = DataQuality#overall
* group[0].measureScore.value = 0.9412
* group[1].id = "conformity"
* group[1].code = DataQuality#conformity
* group[1].measureScore.value = 0.9880
* group[1].stratifier[0].code = DataQuality#rule
* group[2].id = "completeness"
* group[2].code = DataQuality#completeness
* group[2].measureScore.value = 0.9650
* group[2].stratifier[0].code = DataQuality#rule
* group[2].stratifier[0].stratum[0].value.text = "completeness.required.case.sex"
* insert RuleStratum(group[2].stratifier[0].stratum[0], 1250, 1248)
* group[2].stratifier[0].stratum[0].measureScore.value = 0.9984
* group[3].id = "accuracy"
* group[3].code = DataQuality#accuracy
* group[3].measureScore.value = 0.9421
* group[3].stratifier[0].code = DataQuality#rule
* group[4].id = "consistency"
* group[4].code = DataQuality#consistency
* group[4].measureScore.value = 0.8933
* group[4].stratifier[0].code = DataQuality#rule
* group[5].id = "timeliness"
* group[5].code = DataQuality#timeliness
* group[5].measureScore.value = 0.9176
* group[5].stratifier[0].code = DataQuality#rule
* group[5].stratifier[0].stratum[0].value.text = "timeliness.case"
* insert RuleStratum(group[5].stratifier[0].stratum[0], 1190, 1092)
* group[5].stratifier[0].stratum[0].measureScore.value = 0.9176

RuleSet: RuleStratum(at, denominator, numerator)
* {at}.population[0].code = $MeasurePopulation#denominator
* {at}.population[0].count = {denominator}
* {at}.population[1].code = $MeasurePopulation#numerator
* {at}.population[1].count = {numerator}
