// GENERATED from mappings/code-tables by `vte-facade ig build` (facade/ig/terminology.py).
// Do not edit: change the YAML and rebuild.

CodeSystem: AdmissionCondition
Id: admission-condition
Title: "Condition on admission (present-on-admission flag)"
Description: "入院病情代码. 入院病情 of each discharge diagnosis on the medical-record front page, WS/T 500 OID 2.16.156.10011.2.3.1.253. Code 4 (无) marks a condition that arose in hospital. Source: WS 445.10 病案首页 入院病情 (DE09.00.104.00)."
* ^url = "urn:oid:2.16.156.10011.2.3.1.253"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.156.10011.2.3.1.253"
* #1 "有"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Present on admission"
* #2 "临床未确定"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Clinically undetermined"
* #3 "情况不明"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Unknown"
* #4 "无"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Not present on admission"

ValueSet: AdmissionConditionVS
Id: admission-condition
Title: "Condition on admission (present-on-admission flag)"
Description: "All codes of 入院病情代码 (Condition on admission (present-on-admission flag))."
* ^status = #active
* ^experimental = false
* include codes from system AdmissionCondition

CodeSystem: AssessmentTiming
Id: assessment-timing
Title: "Assessment timing point"
Description: "评估时机. When in the stay an assessment was done (vte-domain.md §4.6). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/assessment-timing"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "入院24小时内"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Within 24 h of admission"
* #2 "术前"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Before an operation"
* #3 "术后"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "After an operation"
* #4 "转科"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "On transfer between departments"
* #5 "病情变化"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "On a change of condition"
* #6 "出院前"
* #6 ^designation[0].language = #en
* #6 ^designation[0].value = "Before discharge"
* #7 "定期复评"
* #7 ^designation[0].language = #en
* #7 ^designation[0].value = "Periodic re-assessment"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other"

ValueSet: AssessmentTimingVS
Id: assessment-timing
Title: "Assessment timing point"
Description: "All codes of 评估时机 (Assessment timing point)."
* ^status = #active
* ^experimental = false
* include codes from system AssessmentTiming

CodeSystem: BasicMeasure
Id: basic-measure
Title: "Basic prophylaxis measure"
Description: "基础预防措施. Measures of basic VTE prophylaxis (vte-domain.md §5.1). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/basic-measure"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "早期活动"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Early mobilisation"
* #2 "踝泵运动"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Ankle-pump exercises"
* #3 "抬高下肢"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Leg elevation"
* #4 "充分补液"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Adequate hydration"
* #5 "健康宣教"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Health education"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other"

ValueSet: BasicMeasureVS
Id: basic-measure
Title: "Basic prophylaxis measure"
Description: "All codes of 基础预防措施 (Basic prophylaxis measure)."
* ^status = #active
* ^experimental = false
* include codes from system BasicMeasure

CodeSystem: BleedingRiskFactor
Id: bleeding-risk-factor
Title: "Bleeding-risk factor"
Description: "出血风险因素. Factors of the medical (IMPROVE-derived) and surgical bleeding-risk rules (vte-domain.md §4.3). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/bleeding-risk-factor"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #tool
* ^property[0].type = #code
* ^property[0].description = "bleeding-risk-tool code of the rule the factor belongs to"
* #M01 "活动性消化道溃疡"
* #M01 ^designation[0].language = #en
* #M01 ^designation[0].value = "Active gastroduodenal ulcer"
* #M01 ^property[0].code = #tool
* #M01 ^property[0].valueCode = #1
* #M02 "入院前3个月内有出血事件"
* #M02 ^designation[0].language = #en
* #M02 ^designation[0].value = "Bleeding in the 3 months before admission"
* #M02 ^property[0].code = #tool
* #M02 ^property[0].valueCode = #1
* #M03 "血小板计数<50×10^9/L"
* #M03 ^designation[0].language = #en
* #M03 ^designation[0].value = "Platelets below 50 × 10^9/L"
* #M03 ^property[0].code = #tool
* #M03 ^property[0].valueCode = #1
* #M04 "年龄≥85岁"
* #M04 ^designation[0].language = #en
* #M04 ^designation[0].value = "Age 85 years or more"
* #M04 ^property[0].code = #tool
* #M04 ^property[0].valueCode = #1
* #M05 "肝功能不全(INR>1.5)"
* #M05 ^designation[0].language = #en
* #M05 ^designation[0].value = "Hepatic failure (INR > 1.5)"
* #M05 ^property[0].code = #tool
* #M05 ^property[0].valueCode = #1
* #M06 "严重肾功能不全(GFR<30)"
* #M06 ^designation[0].language = #en
* #M06 ^designation[0].value = "Severe renal failure (GFR < 30)"
* #M06 ^property[0].code = #tool
* #M06 ^property[0].valueCode = #1
* #M07 "入住ICU或CCU"
* #M07 ^designation[0].language = #en
* #M07 ^designation[0].value = "ICU or CCU stay"
* #M07 ^property[0].code = #tool
* #M07 ^property[0].valueCode = #1
* #M08 "中心静脉置管"
* #M08 ^designation[0].language = #en
* #M08 ^designation[0].value = "Central venous catheter"
* #M08 ^property[0].code = #tool
* #M08 ^property[0].valueCode = #1
* #M09 "风湿性疾病"
* #M09 ^designation[0].language = #en
* #M09 ^designation[0].value = "Rheumatic disease"
* #M09 ^property[0].code = #tool
* #M09 ^property[0].valueCode = #1
* #M10 "现患恶性肿瘤"
* #M10 ^designation[0].language = #en
* #M10 ^designation[0].value = "Current cancer"
* #M10 ^property[0].code = #tool
* #M10 ^property[0].valueCode = #1
* #M11 "男性"
* #M11 ^designation[0].language = #en
* #M11 ^designation[0].value = "Male sex"
* #M11 ^property[0].code = #tool
* #M11 ^property[0].valueCode = #1
* #S01 "活动性出血"
* #S01 ^designation[0].language = #en
* #S01 ^designation[0].value = "Active bleeding"
* #S01 ^property[0].code = #tool
* #S01 ^property[0].valueCode = #2
* #S02 "既往大出血史"
* #S02 ^designation[0].language = #en
* #S02 ^designation[0].value = "Previous major bleeding"
* #S02 ^property[0].code = #tool
* #S02 ^property[0].valueCode = #2
* #S03 "未治疗的出血性疾病"
* #S03 ^designation[0].language = #en
* #S03 ^designation[0].value = "Known untreated bleeding disorder"
* #S03 ^property[0].code = #tool
* #S03 ^property[0].valueCode = #2
* #S04 "严重肝肾功能衰竭"
* #S04 ^designation[0].language = #en
* #S04 ^designation[0].value = "Severe renal or hepatic failure"
* #S04 ^property[0].code = #tool
* #S04 ^property[0].valueCode = #2
* #S05 "血小板减少症"
* #S05 ^designation[0].language = #en
* #S05 ^designation[0].value = "Thrombocytopenia"
* #S05 ^property[0].code = #tool
* #S05 ^property[0].valueCode = #2
* #S06 "急性脑卒中"
* #S06 ^designation[0].language = #en
* #S06 ^designation[0].value = "Acute stroke"
* #S06 ^property[0].code = #tool
* #S06 ^property[0].valueCode = #2
* #S07 "未控制的高血压"
* #S07 ^designation[0].language = #en
* #S07 ^designation[0].value = "Uncontrolled hypertension"
* #S07 ^property[0].code = #tool
* #S07 ^property[0].valueCode = #2
* #S08 "腰穿、硬膜外或椎管内麻醉前4小时至后12小时"
* #S08 ^designation[0].language = #en
* #S08 ^designation[0].value = "Lumbar puncture, epidural or spinal anaesthesia from 4 h before to 12 h after"
* #S08 ^property[0].code = #tool
* #S08 ^property[0].valueCode = #2
* #S09 "同时使用抗凝药、抗血小板药或溶栓药"
* #S09 ^designation[0].language = #en
* #S09 ^designation[0].value = "Concomitant anticoagulant, antiplatelet or thrombolytic drugs"
* #S09 ^property[0].code = #tool
* #S09 ^property[0].valueCode = #2
* #S10 "手术相关出血高危因素"
* #S10 ^designation[0].language = #en
* #S10 ^designation[0].value = "Procedure-specific high bleeding risk"
* #S10 ^property[0].code = #tool
* #S10 ^property[0].valueCode = #2
* #S11 "出血后果严重的手术(开颅、脊柱手术、脊柱外伤、游离皮瓣重建)"
* #S11 ^designation[0].language = #en
* #S11 ^designation[0].value = "Procedure where bleeding is catastrophic"
* #S11 ^property[0].code = #tool
* #S11 ^property[0].valueCode = #2

ValueSet: BleedingRiskFactorVS
Id: bleeding-risk-factor
Title: "Bleeding-risk factor"
Description: "All codes of 出血风险因素 (Bleeding-risk factor)."
* ^status = #active
* ^experimental = false
* include codes from system BleedingRiskFactor

CodeSystem: BleedingRiskLevel
Id: bleeding-risk-level
Title: "Bleeding-risk result"
Description: "出血风险等级. Result of a bleeding-risk assessment. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/bleeding-risk-level"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "低危"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Low bleeding risk"
* #2 "高危"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "High bleeding risk"

ValueSet: BleedingRiskLevelVS
Id: bleeding-risk-level
Title: "Bleeding-risk result"
Description: "All codes of 出血风险等级 (Bleeding-risk result)."
* ^status = #active
* ^experimental = false
* include codes from system BleedingRiskLevel

Instance: bleeding-risk-level-to-risk-probability
InstanceOf: ConceptMap
Usage: #definition
Title: "Bleeding-risk result to FHIR risk probability"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/bleeding-risk-level-to-risk-probability"
* name = "BleedingRiskLevelToRiskProbability"
* title = "Bleeding-risk result to FHIR risk probability"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/bleeding-risk-level"
* targetCanonical = "http://hl7.org/fhir/ValueSet/risk-probability"
* group[0].source = "https://fhir.vte-region.cn/ig/CodeSystem/bleeding-risk-level"
* group[0].target = "http://terminology.hl7.org/CodeSystem/risk-probability"
* group[0].element[0].code = #1
* group[0].element[0].display = "低危"
* group[0].element[0].target[0].code = #low
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "高危"
* group[0].element[1].target[0].code = #high
* group[0].element[1].target[0].equivalence = #equivalent

CodeSystem: BleedingRiskTool
Id: bleeding-risk-tool
Title: "Bleeding-risk assessment tool"
Description: "出血风险评估工具. Bleeding-risk rule used (vte-domain.md §4.3). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/bleeding-risk-tool"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "内科住院患者出血风险评估(IMPROVE)"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Medical inpatients (IMPROVE-derived rule)"
* #2 "外科住院患者出血风险评估"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Surgical inpatients"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other tool"

ValueSet: BleedingRiskToolVS
Id: bleeding-risk-tool
Title: "Bleeding-risk assessment tool"
Description: "All codes of 出血风险评估工具 (Bleeding-risk assessment tool)."
* ^status = #active
* ^experimental = false
* include codes from system BleedingRiskTool

CodeSystem: ConfirmingStudy
Id: confirming-study
Title: "VTE confirming study"
Description: "VTE确诊检查. The examination that confirmed the VTE (vte-domain.md §6.3, §6.4). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/confirming-study"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "下肢静脉加压超声"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Compression ultrasound of leg veins"
* #2 "血管彩色多普勒超声"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Duplex (colour Doppler) ultrasound"
* #3 "CT肺动脉造影(CTPA)"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "CT pulmonary angiography (CTPA)"
* #4 "肺通气/灌注显像"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Ventilation/perfusion scan"
* #5 "肺动脉造影"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Pulmonary angiography"
* #6 "CT或MR静脉成像"
* #6 ^designation[0].language = #en
* #6 ^designation[0].value = "CT or MR venography"
* #7 "静脉造影"
* #7 ^designation[0].language = #en
* #7 ^designation[0].value = "Contrast venography"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other"

ValueSet: ConfirmingStudyVS
Id: confirming-study
Title: "VTE confirming study"
Description: "All codes of VTE确诊检查 (VTE confirming study)."
* ^status = #active
* ^experimental = false
* include codes from system ConfirmingStudy

CodeSystem: Cv0201101IdDocumentType
Id: cv02-01-101-id-document-type
Title: "Identity document type (CV02.01.101)"
Description: "身份证件类别代码. Identity document types of WS 364.2 table CV02.01.101 (values as commonly implemented; check against WS/T 364.2-2023). Source: WS 364.2 CV02.01.101."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/cv02-01-101-id-document-type"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #01 "居民身份证"
* #01 ^designation[0].language = #en
* #01 ^designation[0].value = "Resident identity card"
* #02 "居民户口簿"
* #02 ^designation[0].language = #en
* #02 ^designation[0].value = "Household register"
* #03 "护照"
* #03 ^designation[0].language = #en
* #03 ^designation[0].value = "Passport"
* #04 "军官证"
* #04 ^designation[0].language = #en
* #04 ^designation[0].value = "Military officer card"
* #05 "驾驶证"
* #05 ^designation[0].language = #en
* #05 ^designation[0].value = "Driving licence"
* #06 "港澳居民来往内地通行证"
* #06 ^designation[0].language = #en
* #06 ^designation[0].value = "Mainland travel permit for Hong Kong and Macao residents"
* #07 "台湾居民来往内地通行证"
* #07 ^designation[0].language = #en
* #07 ^designation[0].value = "Mainland travel permit for Taiwan residents"
* #99 "其他法定有效证件"
* #99 ^designation[0].language = #en
* #99 ^designation[0].value = "Other legal identity document"

ValueSet: Cv0201101IdDocumentTypeVS
Id: cv02-01-101-id-document-type
Title: "Identity document type (CV02.01.101)"
Description: "All codes of 身份证件类别代码 (Identity document type (CV02.01.101))."
* ^status = #active
* ^experimental = false
* include codes from system Cv0201101IdDocumentType

CodeSystem: Cv0600226DischargeDisposition
Id: cv06-00-226-discharge-disposition
Title: "Discharge disposition (CV06.00.226)"
Description: "离院方式代码. 离院方式 of the inpatient medical-record front page (病案首页), WS 364 CV06.00.226, WS/T 500 OID 2.16.156.10011.2.3.1.265. Source: WS 364 CV06.00.226."
* ^url = "urn:oid:2.16.156.10011.2.3.1.265"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.156.10011.2.3.1.265"
* #1 "医嘱离院"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Discharged on medical advice"
* #2 "医嘱转院"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Transferred to another hospital on medical advice"
* #3 "医嘱转社区卫生服务机构/乡镇卫生院"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Transferred to a community health centre or township hospital on medical advice"
* #4 "非医嘱离院"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Left against medical advice"
* #5 "死亡"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Died"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other"

ValueSet: Cv0600226DischargeDispositionVS
Id: cv06-00-226-discharge-disposition
Title: "Discharge disposition (CV06.00.226)"
Description: "All codes of 离院方式代码 (Discharge disposition (CV06.00.226))."
* ^status = #active
* ^experimental = false
* include codes from system Cv0600226DischargeDisposition

Instance: cv06-00-226-to-discharge-disposition
InstanceOf: ConceptMap
Usage: #definition
Title: "离院方式 to FHIR discharge disposition"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/cv06-00-226-to-discharge-disposition"
* name = "Cv0600226ToDischargeDisposition"
* title = "离院方式 to FHIR discharge disposition"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/cv06-00-226-discharge-disposition"
* targetCanonical = "http://hl7.org/fhir/ValueSet/encounter-discharge-disposition"
* group[0].source = "urn:oid:2.16.156.10011.2.3.1.265"
* group[0].target = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
* group[0].element[0].code = #1
* group[0].element[0].display = "医嘱离院"
* group[0].element[0].target[0].code = #home
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "医嘱转院"
* group[0].element[1].target[0].code = #other-hcf
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #3
* group[0].element[2].display = "医嘱转社区卫生服务机构/乡镇卫生院"
* group[0].element[2].target[0].code = #other-hcf
* group[0].element[2].target[0].equivalence = #equivalent
* group[0].element[3].code = #4
* group[0].element[3].display = "非医嘱离院"
* group[0].element[3].target[0].code = #aadvice
* group[0].element[3].target[0].equivalence = #equivalent
* group[0].element[4].code = #5
* group[0].element[4].display = "死亡"
* group[0].element[4].target[0].code = #exp
* group[0].element[4].target[0].equivalence = #equivalent
* group[0].element[5].code = #9
* group[0].element[5].display = "其他"
* group[0].element[5].target[0].code = #oth
* group[0].element[5].target[0].equivalence = #equivalent

CodeSystem: DiagnosisType
Id: diagnosis-type
Title: "Discharge diagnosis type"
Description: "出院诊断类别. Whether a front-page discharge diagnosis is the principal diagnosis or another one. Source: local (病案首页 出院诊断 主要/其他)."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/diagnosis-type"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "主要诊断"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Principal diagnosis"
* #2 "其他诊断"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Other diagnosis"

ValueSet: DiagnosisTypeVS
Id: diagnosis-type
Title: "Discharge diagnosis type"
Description: "All codes of 出院诊断类别 (Discharge diagnosis type)."
* ^status = #active
* ^experimental = false
* include codes from system DiagnosisType

CodeSystem: DoseFrequency
Id: dose-frequency
Title: "Dosing frequency"
Description: "用药频次. How often a prophylactic drug is given (common order abbreviations). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/dose-frequency"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #QD "每日一次"
* #QD ^designation[0].language = #en
* #QD ^designation[0].value = "Once daily"
* #BID "每日两次"
* #BID ^designation[0].language = #en
* #BID ^designation[0].value = "Twice daily"
* #TID "每日三次"
* #TID ^designation[0].language = #en
* #TID ^designation[0].value = "Three times daily"
* #Q8H "每8小时一次"
* #Q8H ^designation[0].language = #en
* #Q8H ^designation[0].value = "Every 8 hours"
* #Q12H "每12小时一次"
* #Q12H ^designation[0].language = #en
* #Q12H ^designation[0].value = "Every 12 hours"
* #QN "每晚一次"
* #QN ^designation[0].language = #en
* #QN ^designation[0].value = "Every night"
* #ST "立即(单次)"
* #ST ^designation[0].language = #en
* #ST ^designation[0].value = "Once, immediately"
* #OTH "其他"
* #OTH ^designation[0].language = #en
* #OTH ^designation[0].value = "Other"

ValueSet: DoseFrequencyVS
Id: dose-frequency
Title: "Dosing frequency"
Description: "All codes of 用药频次 (Dosing frequency)."
* ^status = #active
* ^experimental = false
* include codes from system DoseFrequency

CodeSystem: DrugRoute
Id: drug-route
Title: "Route of administration"
Description: "用药途径代码. Routes of WS 364 用药途径代码表 (CV06.00.102, WS/T 500 OID 2.16.156.10011.2.3.1.158) that VTE prophylaxis uses; codes reconstructed from implementations, check against the official table. Source: WS 364 CV06.00.102 (subset)."
* ^url = "urn:oid:2.16.156.10011.2.3.1.158"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.156.10011.2.3.1.158"
* #1 "口服"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Oral"
* #4 "注射用药"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Injection"
* #401 "皮下注射"
* #401 ^designation[0].language = #en
* #401 ^designation[0].value = "Subcutaneous injection"
* #403 "肌肉注射"
* #403 ^designation[0].language = #en
* #403 ^designation[0].value = "Intramuscular injection"
* #404 "静脉注射或静脉滴注"
* #404 ^designation[0].language = #en
* #404 ^designation[0].value = "Intravenous injection or infusion"
* #9 "其他用药途径"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other route"

ValueSet: DrugRouteVS
Id: drug-route
Title: "Route of administration"
Description: "All codes of 用药途径代码 (Route of administration)."
* ^status = #active
* ^experimental = false
* include codes from system DrugRoute

CodeSystem: ExecutionStatus
Id: execution-status
Title: "Prophylaxis execution status"
Description: "预防措施执行状态. State of a prophylaxis order's execution. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/execution-status"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "执行中"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "In progress"
* #2 "已完成"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Completed"
* #3 "已停止"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Stopped"
* #4 "未执行"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Not done"

ValueSet: ExecutionStatusVS
Id: execution-status
Title: "Prophylaxis execution status"
Description: "All codes of 预防措施执行状态 (Prophylaxis execution status)."
* ^status = #active
* ^experimental = false
* include codes from system ExecutionStatus

Instance: execution-status-to-event-status
InstanceOf: ConceptMap
Usage: #definition
Title: "Execution status to FHIR event status"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/execution-status-to-event-status"
* name = "ExecutionStatusToEventStatus"
* title = "Execution status to FHIR event status"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/execution-status"
* targetCanonical = "http://hl7.org/fhir/ValueSet/event-status"
* group[0].source = "https://fhir.vte-region.cn/ig/CodeSystem/execution-status"
* group[0].target = "http://hl7.org/fhir/event-status"
* group[0].element[0].code = #1
* group[0].element[0].display = "执行中"
* group[0].element[0].target[0].code = #in-progress
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "已完成"
* group[0].element[1].target[0].code = #completed
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #3
* group[0].element[2].display = "已停止"
* group[0].element[2].target[0].code = #stopped
* group[0].element[2].target[0].equivalence = #equivalent
* group[0].element[3].code = #4
* group[0].element[3].display = "未执行"
* group[0].element[3].target[0].code = #not-done
* group[0].element[3].target[0].equivalence = #equivalent

CodeSystem: Gbt22611Sex
Id: gbt-2261-1-sex
Title: "Sex (GB/T 2261.1)"
Description: "生理性别代码. Human sex codes of GB/T 2261.1-2003, WS/T 500 code-table OID 2.16.156.10011.2.3.3.4. Source: GB/T 2261.1-2003."
* ^url = "urn:oid:2.16.156.10011.2.3.3.4"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.156.10011.2.3.3.4"
* #0 "未知的性别"
* #0 ^designation[0].language = #en
* #0 ^designation[0].value = "Unknown sex"
* #1 "男性"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Male"
* #2 "女性"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Female"
* #5 "女性改(变)为男性"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Female changed to male"
* #6 "男性改(变)为女性"
* #6 ^designation[0].language = #en
* #6 ^designation[0].value = "Male changed to female"
* #9 "未说明的性别"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Not stated"

ValueSet: Gbt22611SexVS
Id: gbt-2261-1-sex
Title: "Sex (GB/T 2261.1)"
Description: "All codes of 生理性别代码 (Sex (GB/T 2261.1))."
* ^status = #active
* ^experimental = false
* include codes from system Gbt22611Sex

Instance: gbt-2261-1-sex-to-administrative-gender
InstanceOf: ConceptMap
Usage: #definition
Title: "GB/T 2261.1 sex to FHIR administrative gender"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/gbt-2261-1-sex-to-administrative-gender"
* name = "Gbt22611SexToAdministrativeGender"
* title = "GB/T 2261.1 sex to FHIR administrative gender"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/gbt-2261-1-sex"
* targetCanonical = "http://hl7.org/fhir/ValueSet/administrative-gender"
* group[0].source = "urn:oid:2.16.156.10011.2.3.3.4"
* group[0].target = "http://hl7.org/fhir/administrative-gender"
* group[0].element[0].code = #0
* group[0].element[0].display = "未知的性别"
* group[0].element[0].target[0].code = #unknown
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #1
* group[0].element[1].display = "男性"
* group[0].element[1].target[0].code = #male
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #2
* group[0].element[2].display = "女性"
* group[0].element[2].target[0].code = #female
* group[0].element[2].target[0].equivalence = #equivalent
* group[0].element[3].code = #5
* group[0].element[3].display = "女性改(变)为男性"
* group[0].element[3].target[0].code = #male
* group[0].element[3].target[0].equivalence = #wider
* group[0].element[4].code = #6
* group[0].element[4].display = "男性改(变)为女性"
* group[0].element[4].target[0].code = #female
* group[0].element[4].target[0].equivalence = #wider
* group[0].element[5].code = #9
* group[0].element[5].display = "未说明的性别"
* group[0].element[5].target[0].code = #unknown
* group[0].element[5].target[0].equivalence = #equivalent

CodeSystem: HospitalGrade
Id: hospital-grade
Title: "Hospital grade"
Description: "医院等级. Hospital level and grade (医院等级). The standard admits level-2 (二级) hospitals and above. Source: local (《医院分级管理办法》 levels and grades)."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/hospital-grade"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #level
* ^property[0].type = #integer
* ^property[0].description = "Hospital level 1-3 (0 = not graded)"
* #31 "三级甲等"
* #31 ^designation[0].language = #en
* #31 ^designation[0].value = "Tertiary grade A"
* #31 ^property[0].code = #level
* #31 ^property[0].valueInteger = 3
* #32 "三级乙等"
* #32 ^designation[0].language = #en
* #32 ^designation[0].value = "Tertiary grade B"
* #32 ^property[0].code = #level
* #32 ^property[0].valueInteger = 3
* #33 "三级丙等"
* #33 ^designation[0].language = #en
* #33 ^designation[0].value = "Tertiary grade C"
* #33 ^property[0].code = #level
* #33 ^property[0].valueInteger = 3
* #39 "三级未定等"
* #39 ^designation[0].language = #en
* #39 ^designation[0].value = "Tertiary not graded"
* #39 ^property[0].code = #level
* #39 ^property[0].valueInteger = 3
* #21 "二级甲等"
* #21 ^designation[0].language = #en
* #21 ^designation[0].value = "Secondary grade A"
* #21 ^property[0].code = #level
* #21 ^property[0].valueInteger = 2
* #22 "二级乙等"
* #22 ^designation[0].language = #en
* #22 ^designation[0].value = "Secondary grade B"
* #22 ^property[0].code = #level
* #22 ^property[0].valueInteger = 2
* #23 "二级丙等"
* #23 ^designation[0].language = #en
* #23 ^designation[0].value = "Secondary grade C"
* #23 ^property[0].code = #level
* #23 ^property[0].valueInteger = 2
* #29 "二级未定等"
* #29 ^designation[0].language = #en
* #29 ^designation[0].value = "Secondary not graded"
* #29 ^property[0].code = #level
* #29 ^property[0].valueInteger = 2
* #11 "一级甲等"
* #11 ^designation[0].language = #en
* #11 ^designation[0].value = "Primary grade A"
* #11 ^property[0].code = #level
* #11 ^property[0].valueInteger = 1
* #12 "一级乙等"
* #12 ^designation[0].language = #en
* #12 ^designation[0].value = "Primary grade B"
* #12 ^property[0].code = #level
* #12 ^property[0].valueInteger = 1
* #13 "一级丙等"
* #13 ^designation[0].language = #en
* #13 ^designation[0].value = "Primary grade C"
* #13 ^property[0].code = #level
* #13 ^property[0].valueInteger = 1
* #19 "一级未定等"
* #19 ^designation[0].language = #en
* #19 ^designation[0].value = "Primary not graded"
* #19 ^property[0].code = #level
* #19 ^property[0].valueInteger = 1
* #90 "未定级"
* #90 ^designation[0].language = #en
* #90 ^designation[0].value = "Not graded"
* #90 ^property[0].code = #level
* #90 ^property[0].valueInteger = 0

ValueSet: HospitalGradeVS
Id: hospital-grade
Title: "Hospital grade"
Description: "All codes of 医院等级 (Hospital grade)."
* ^status = #active
* ^experimental = false
* include codes from system HospitalGrade

CodeSystem: MechContraindicationReason
Id: mech-contraindication-reason
Title: "Mechanical-prophylaxis contraindication"
Description: "机械预防禁忌证. Reasons why mechanical prophylaxis (GCS, IPC, VFP) must not be used (vte-domain.md §4.4). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/mech-contraindication-reason"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #01 "充血性心力衰竭、肺水肿或下肢严重水肿"
* #01 ^designation[0].language = #en
* #01 ^designation[0].value = "Congestive heart failure, pulmonary oedema or severe leg oedema"
* #02 "下肢深静脉血栓、血栓性静脉炎或肺栓塞"
* #02 ^designation[0].language = #en
* #02 ^designation[0].value = "Existing leg DVT, thrombophlebitis or pulmonary embolism"
* #03 "下肢局部情况异常(皮炎、坏疽、近期植皮、开放伤口)"
* #03 ^designation[0].language = #en
* #03 ^designation[0].value = "Local leg condition (dermatitis, gangrene, recent skin graft, open wound)"
* #04 "下肢严重动脉硬化或缺血性血管病"
* #04 ^designation[0].language = #en
* #04 ^designation[0].value = "Severe leg arteriosclerosis or ischaemic vascular disease"
* #05 "下肢严重畸形"
* #05 ^designation[0].language = #en
* #05 ^designation[0].value = "Severe leg deformity"
* #06 "严重肥胖无法正确佩戴"
* #06 ^designation[0].language = #en
* #06 ^designation[0].value = "Extreme obesity preventing correct fitting"
* #99 "其他"
* #99 ^designation[0].language = #en
* #99 ^designation[0].value = "Other"

ValueSet: MechContraindicationReasonVS
Id: mech-contraindication-reason
Title: "Mechanical-prophylaxis contraindication"
Description: "All codes of 机械预防禁忌证 (Mechanical-prophylaxis contraindication)."
* ^status = #active
* ^experimental = false
* include codes from system MechContraindicationReason

CodeSystem: MechanicalDevice
Id: mechanical-device
Title: "Mechanical prophylaxis device"
Description: "机械预防装置. Devices of mechanical VTE prophylaxis (vte-domain.md §5.1). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/mechanical-device"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "梯度压力弹力袜(GCS)"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Graduated compression stockings (GCS)"
* #2 "间歇充气加压装置(IPC)"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Intermittent pneumatic compression (IPC)"
* #3 "足底静脉泵(VFP)"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Venous foot pump (VFP)"

ValueSet: MechanicalDeviceVS
Id: mechanical-device
Title: "Mechanical prophylaxis device"
Description: "All codes of 机械预防装置 (Mechanical prophylaxis device)."
* ^status = #active
* ^experimental = false
* include codes from system MechanicalDevice

CodeSystem: ProphylaxisCategory
Id: prophylaxis-category
Title: "VTE prophylaxis category"
Description: "VTE预防措施类别. Basic, mechanical or pharmacological prophylaxis (vte-domain.md §5.1). Source: local (NHC single-disease form)."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/prophylaxis-category"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "基础预防"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Basic prophylaxis"
* #2 "机械预防"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Mechanical prophylaxis"
* #3 "药物预防"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Pharmacological prophylaxis"

ValueSet: ProphylaxisCategoryVS
Id: prophylaxis-category
Title: "VTE prophylaxis category"
Description: "All codes of VTE预防措施类别 (VTE prophylaxis category)."
* ^status = #active
* ^experimental = false
* include codes from system ProphylaxisCategory

CodeSystem: ProphylaxisDrug
Id: prophylaxis-drug
Title: "VTE prophylaxis drug"
Description: "VTE预防药物. Active ingredients used for pharmacological VTE prophylaxis (vte-domain.md §5.1). Hospitals add their own drug code and name. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/prophylaxis-drug"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #01 "依诺肝素"
* #01 ^designation[0].language = #en
* #01 ^designation[0].value = "Enoxaparin"
* #02 "那屈肝素"
* #02 ^designation[0].language = #en
* #02 ^designation[0].value = "Nadroparin"
* #03 "达肝素"
* #03 ^designation[0].language = #en
* #03 ^designation[0].value = "Dalteparin"
* #04 "普通肝素"
* #04 ^designation[0].language = #en
* #04 ^designation[0].value = "Unfractionated heparin"
* #05 "磺达肝癸钠"
* #05 ^designation[0].language = #en
* #05 ^designation[0].value = "Fondaparinux"
* #06 "利伐沙班"
* #06 ^designation[0].language = #en
* #06 ^designation[0].value = "Rivaroxaban"
* #07 "阿哌沙班"
* #07 ^designation[0].language = #en
* #07 ^designation[0].value = "Apixaban"
* #08 "达比加群酯"
* #08 ^designation[0].language = #en
* #08 ^designation[0].value = "Dabigatran etexilate"
* #09 "华法林"
* #09 ^designation[0].language = #en
* #09 ^designation[0].value = "Warfarin"
* #10 "艾多沙班"
* #10 ^designation[0].language = #en
* #10 ^designation[0].value = "Edoxaban"
* #99 "其他"
* #99 ^designation[0].language = #en
* #99 ^designation[0].value = "Other"

ValueSet: ProphylaxisDrugVS
Id: prophylaxis-drug
Title: "VTE prophylaxis drug"
Description: "All codes of VTE预防药物 (VTE prophylaxis drug)."
* ^status = #active
* ^experimental = false
* include codes from system ProphylaxisDrug

CodeSystem: VteAssessmentType
Id: vte-assessment-type
Title: "VTE assessment type"
Description: "VTE评估类别. What a RiskAssessment or Observation of this guide is (its `code`); set by the facade, never sent by hospitals. No LOINC code exists for these assessments (vte-domain.md §6.3). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-assessment-type"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #vte-risk "VTE风险评估"
* #vte-risk ^designation[0].language = #en
* #vte-risk ^designation[0].value = "VTE risk assessment"
* #bleeding-risk "出血风险评估"
* #bleeding-risk ^designation[0].language = #en
* #bleeding-risk ^designation[0].value = "Bleeding-risk assessment"
* #mech-contraindication "机械预防禁忌证评估"
* #mech-contraindication ^designation[0].language = #en
* #mech-contraindication ^designation[0].value = "Mechanical-prophylaxis contraindication assessment"
* #wells-dvt "DVT Wells评分"
* #wells-dvt ^designation[0].language = #en
* #wells-dvt ^designation[0].value = "Wells score for DVT"
* #wells-pe "PE Wells评分"
* #wells-pe ^designation[0].language = #en
* #wells-pe ^designation[0].value = "Wells score for PE"

ValueSet: VteAssessmentTypeVS
Id: vte-assessment-type
Title: "VTE assessment type"
Description: "All codes of VTE评估类别 (VTE assessment type)."
* ^status = #active
* ^experimental = false
* include codes from system VteAssessmentType

CodeSystem: VteEventType
Id: vte-event-type
Title: "VTE event type"
Description: "VTE类型. Deep venous thrombosis, pulmonary thromboembolism, or both. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-event-type"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "深静脉血栓形成(DVT)"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Deep venous thrombosis (DVT)"
* #2 "肺血栓栓塞症(PTE)"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Pulmonary thromboembolism (PTE)"
* #3 "DVT合并PTE"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "DVT and PTE"

ValueSet: VteEventTypeVS
Id: vte-event-type
Title: "VTE event type"
Description: "All codes of VTE类型 (VTE event type)."
* ^status = #active
* ^experimental = false
* include codes from system VteEventType

Instance: vte-event-type-to-snomed
InstanceOf: ConceptMap
Usage: #definition
Title: "VTE event type to SNOMED CT"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/vte-event-type-to-snomed"
* name = "VteEventTypeToSnomed"
* title = "VTE event type to SNOMED CT"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/vte-event-type"
* group[0].source = "https://fhir.vte-region.cn/ig/CodeSystem/vte-event-type"
* group[0].target = "http://snomed.info/sct"
* group[0].element[0].code = #1
* group[0].element[0].display = "深静脉血栓形成(DVT)"
* group[0].element[0].target[0].code = #128053003
* group[0].element[0].target[0].display = "Deep venous thrombosis"
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "肺血栓栓塞症(PTE)"
* group[0].element[1].target[0].code = #59282003
* group[0].element[1].target[0].display = "Pulmonary embolism"
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #3
* group[0].element[2].display = "DVT合并PTE"
* group[0].element[2].target[0].code = #429098002
* group[0].element[2].target[0].display = "Thromboembolism of vein"
* group[0].element[2].target[0].equivalence = #wider

CodeSystem: VteRiskFactor
Id: vte-risk-factor
Title: "VTE risk-assessment item"
Description: "VTE风险因素条目. Items of the Caprini (2005 version as used in China) and Padua scales with their points (vte-domain.md §4.1, §4.2). Items of other tools are sent as text only. Source: local (Caprini 2005; Padua 2010)."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-risk-factor"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #tool
* ^property[0].type = #code
* ^property[0].description = "vte-risk-tool code of the scale the item belongs to"
* ^property[1].code = #points
* ^property[1].type = #decimal
* ^property[1].description = "Points the item adds to the total score"
* #C01 "年龄41-60岁"
* #C01 ^designation[0].language = #en
* #C01 ^designation[0].value = "Age 41-60 years"
* #C01 ^property[0].code = #tool
* #C01 ^property[0].valueCode = #1
* #C01 ^property[1].code = #points
* #C01 ^property[1].valueDecimal = 1
* #C02 "计划小手术"
* #C02 ^designation[0].language = #en
* #C02 ^designation[0].value = "Minor surgery planned"
* #C02 ^property[0].code = #tool
* #C02 ^property[0].valueCode = #1
* #C02 ^property[1].code = #points
* #C02 ^property[1].valueDecimal = 1
* #C03 "近期(<1个月)大手术"
* #C03 ^designation[0].language = #en
* #C03 ^designation[0].value = "Major surgery in the past month"
* #C03 ^property[0].code = #tool
* #C03 ^property[0].valueCode = #1
* #C03 ^property[1].code = #points
* #C03 ^property[1].valueDecimal = 1
* #C04 "肥胖(BMI>25)"
* #C04 ^designation[0].language = #en
* #C04 ^designation[0].value = "Obesity (BMI > 25)"
* #C04 ^property[0].code = #tool
* #C04 ^property[0].valueCode = #1
* #C04 ^property[1].code = #points
* #C04 ^property[1].valueDecimal = 1
* #C05 "下肢肿胀"
* #C05 ^designation[0].language = #en
* #C05 ^designation[0].value = "Swollen legs"
* #C05 ^property[0].code = #tool
* #C05 ^property[0].valueCode = #1
* #C05 ^property[1].code = #points
* #C05 ^property[1].valueDecimal = 1
* #C06 "静脉曲张"
* #C06 ^designation[0].language = #en
* #C06 ^designation[0].value = "Varicose veins"
* #C06 ^property[0].code = #tool
* #C06 ^property[0].valueCode = #1
* #C06 ^property[1].code = #points
* #C06 ^property[1].valueDecimal = 1
* #C07 "妊娠期或产后"
* #C07 ^designation[0].language = #en
* #C07 ^designation[0].value = "Pregnant or postpartum"
* #C07 ^property[0].code = #tool
* #C07 ^property[0].valueCode = #1
* #C07 ^property[1].code = #points
* #C07 ^property[1].valueDecimal = 1
* #C08 "不明原因死产/反复自然流产/早产伴毒血症或胎儿生长受限"
* #C08 ^designation[0].language = #en
* #C08 ^designation[0].value = "Unexplained stillbirth, recurrent abortion or premature birth with toxaemia or growth restriction"
* #C08 ^property[0].code = #tool
* #C08 ^property[0].valueCode = #1
* #C08 ^property[1].code = #points
* #C08 ^property[1].valueDecimal = 1
* #C09 "口服避孕药或激素替代治疗"
* #C09 ^designation[0].language = #en
* #C09 ^designation[0].value = "Oral contraceptives or hormone replacement"
* #C09 ^property[0].code = #tool
* #C09 ^property[0].valueCode = #1
* #C09 ^property[1].code = #points
* #C09 ^property[1].valueDecimal = 1
* #C10 "脓毒症(<1个月)"
* #C10 ^designation[0].language = #en
* #C10 ^designation[0].value = "Sepsis (< 1 month)"
* #C10 ^property[0].code = #tool
* #C10 ^property[0].valueCode = #1
* #C10 ^property[1].code = #points
* #C10 ^property[1].valueDecimal = 1
* #C11 "严重肺部疾病含肺炎(<1个月)"
* #C11 ^designation[0].language = #en
* #C11 ^designation[0].value = "Serious lung disease incl. pneumonia (< 1 month)"
* #C11 ^property[0].code = #tool
* #C11 ^property[0].valueCode = #1
* #C11 ^property[1].code = #points
* #C11 ^property[1].valueDecimal = 1
* #C12 "肺功能异常(COPD)"
* #C12 ^designation[0].language = #en
* #C12 ^designation[0].value = "Abnormal pulmonary function (COPD)"
* #C12 ^property[0].code = #tool
* #C12 ^property[0].valueCode = #1
* #C12 ^property[1].code = #points
* #C12 ^property[1].valueDecimal = 1
* #C13 "急性心肌梗死"
* #C13 ^designation[0].language = #en
* #C13 ^designation[0].value = "Acute myocardial infarction"
* #C13 ^property[0].code = #tool
* #C13 ^property[0].valueCode = #1
* #C13 ^property[1].code = #points
* #C13 ^property[1].valueDecimal = 1
* #C14 "充血性心力衰竭(<1个月)"
* #C14 ^designation[0].language = #en
* #C14 ^designation[0].value = "Congestive heart failure (< 1 month)"
* #C14 ^property[0].code = #tool
* #C14 ^property[0].valueCode = #1
* #C14 ^property[1].code = #points
* #C14 ^property[1].valueDecimal = 1
* #C15 "炎症性肠病史"
* #C15 ^designation[0].language = #en
* #C15 ^designation[0].value = "History of inflammatory bowel disease"
* #C15 ^property[0].code = #tool
* #C15 ^property[0].valueCode = #1
* #C15 ^property[1].code = #points
* #C15 ^property[1].valueDecimal = 1
* #C16 "卧床的内科患者"
* #C16 ^designation[0].language = #en
* #C16 ^designation[0].value = "Medical patient at bed rest"
* #C16 ^property[0].code = #tool
* #C16 ^property[0].valueCode = #1
* #C16 ^property[1].code = #points
* #C16 ^property[1].valueDecimal = 1
* #C21 "年龄61-74岁"
* #C21 ^designation[0].language = #en
* #C21 ^designation[0].value = "Age 61-74 years"
* #C21 ^property[0].code = #tool
* #C21 ^property[0].valueCode = #1
* #C21 ^property[1].code = #points
* #C21 ^property[1].valueDecimal = 2
* #C22 "关节镜手术"
* #C22 ^designation[0].language = #en
* #C22 ^designation[0].value = "Arthroscopic surgery"
* #C22 ^property[0].code = #tool
* #C22 ^property[0].valueCode = #1
* #C22 ^property[1].code = #points
* #C22 ^property[1].valueDecimal = 2
* #C23 "大型开放手术(>45分钟)"
* #C23 ^designation[0].language = #en
* #C23 ^designation[0].value = "Major open surgery (> 45 min)"
* #C23 ^property[0].code = #tool
* #C23 ^property[0].valueCode = #1
* #C23 ^property[1].code = #points
* #C23 ^property[1].valueDecimal = 2
* #C24 "腹腔镜手术(>45分钟)"
* #C24 ^designation[0].language = #en
* #C24 ^designation[0].value = "Laparoscopic surgery (> 45 min)"
* #C24 ^property[0].code = #tool
* #C24 ^property[0].valueCode = #1
* #C24 ^property[1].code = #points
* #C24 ^property[1].valueDecimal = 2
* #C25 "恶性肿瘤(既往或现患)"
* #C25 ^designation[0].language = #en
* #C25 ^designation[0].value = "Malignancy (present or previous)"
* #C25 ^property[0].code = #tool
* #C25 ^property[0].valueCode = #1
* #C25 ^property[1].code = #points
* #C25 ^property[1].valueDecimal = 2
* #C26 "卧床(>72小时)"
* #C26 ^designation[0].language = #en
* #C26 ^designation[0].value = "Confined to bed (> 72 h)"
* #C26 ^property[0].code = #tool
* #C26 ^property[0].valueCode = #1
* #C26 ^property[1].code = #points
* #C26 ^property[1].valueDecimal = 2
* #C27 "石膏固定"
* #C27 ^designation[0].language = #en
* #C27 ^designation[0].value = "Immobilising plaster cast"
* #C27 ^property[0].code = #tool
* #C27 ^property[0].valueCode = #1
* #C27 ^property[1].code = #points
* #C27 ^property[1].valueDecimal = 2
* #C28 "中心静脉置管"
* #C28 ^designation[0].language = #en
* #C28 ^designation[0].value = "Central venous access"
* #C28 ^property[0].code = #tool
* #C28 ^property[0].valueCode = #1
* #C28 ^property[1].code = #points
* #C28 ^property[1].valueDecimal = 2
* #C31 "年龄≥75岁"
* #C31 ^designation[0].language = #en
* #C31 ^designation[0].value = "Age 75 years or more"
* #C31 ^property[0].code = #tool
* #C31 ^property[0].valueCode = #1
* #C31 ^property[1].code = #points
* #C31 ^property[1].valueDecimal = 3
* #C32 "VTE病史"
* #C32 ^designation[0].language = #en
* #C32 ^designation[0].value = "History of VTE"
* #C32 ^property[0].code = #tool
* #C32 ^property[0].valueCode = #1
* #C32 ^property[1].code = #points
* #C32 ^property[1].valueDecimal = 3
* #C33 "VTE家族史"
* #C33 ^designation[0].language = #en
* #C33 ^designation[0].value = "Family history of VTE"
* #C33 ^property[0].code = #tool
* #C33 ^property[0].valueCode = #1
* #C33 ^property[1].code = #points
* #C33 ^property[1].valueDecimal = 3
* #C34 "凝血因子V Leiden突变"
* #C34 ^designation[0].language = #en
* #C34 ^designation[0].value = "Factor V Leiden"
* #C34 ^property[0].code = #tool
* #C34 ^property[0].valueCode = #1
* #C34 ^property[1].code = #points
* #C34 ^property[1].valueDecimal = 3
* #C35 "凝血酶原20210A突变"
* #C35 ^designation[0].language = #en
* #C35 ^designation[0].value = "Prothrombin 20210A"
* #C35 ^property[0].code = #tool
* #C35 ^property[0].valueCode = #1
* #C35 ^property[1].code = #points
* #C35 ^property[1].valueDecimal = 3
* #C36 "狼疮抗凝物阳性"
* #C36 ^designation[0].language = #en
* #C36 ^designation[0].value = "Lupus anticoagulant"
* #C36 ^property[0].code = #tool
* #C36 ^property[0].valueCode = #1
* #C36 ^property[1].code = #points
* #C36 ^property[1].valueDecimal = 3
* #C37 "抗心磷脂抗体阳性"
* #C37 ^designation[0].language = #en
* #C37 ^designation[0].value = "Anticardiolipin antibodies"
* #C37 ^property[0].code = #tool
* #C37 ^property[0].valueCode = #1
* #C37 ^property[1].code = #points
* #C37 ^property[1].valueDecimal = 3
* #C38 "血清同型半胱氨酸升高"
* #C38 ^designation[0].language = #en
* #C38 ^designation[0].value = "Raised serum homocysteine"
* #C38 ^property[0].code = #tool
* #C38 ^property[0].valueCode = #1
* #C38 ^property[1].code = #points
* #C38 ^property[1].valueDecimal = 3
* #C39 "肝素诱导的血小板减少症"
* #C39 ^designation[0].language = #en
* #C39 ^designation[0].value = "Heparin-induced thrombocytopenia"
* #C39 ^property[0].code = #tool
* #C39 ^property[0].valueCode = #1
* #C39 ^property[1].code = #points
* #C39 ^property[1].valueDecimal = 3
* #C40 "其他先天性或获得性血栓形成倾向"
* #C40 ^designation[0].language = #en
* #C40 ^designation[0].value = "Other congenital or acquired thrombophilia"
* #C40 ^property[0].code = #tool
* #C40 ^property[0].valueCode = #1
* #C40 ^property[1].code = #points
* #C40 ^property[1].valueDecimal = 3
* #C51 "脑卒中(<1个月)"
* #C51 ^designation[0].language = #en
* #C51 ^designation[0].value = "Stroke (< 1 month)"
* #C51 ^property[0].code = #tool
* #C51 ^property[0].valueCode = #1
* #C51 ^property[1].code = #points
* #C51 ^property[1].valueDecimal = 5
* #C52 "择期下肢关节置换术"
* #C52 ^designation[0].language = #en
* #C52 ^designation[0].value = "Elective major lower-extremity arthroplasty"
* #C52 ^property[0].code = #tool
* #C52 ^property[0].valueCode = #1
* #C52 ^property[1].code = #points
* #C52 ^property[1].valueDecimal = 5
* #C53 "髋关节、骨盆或下肢骨折"
* #C53 ^designation[0].language = #en
* #C53 ^designation[0].value = "Hip, pelvis or leg fracture"
* #C53 ^property[0].code = #tool
* #C53 ^property[0].valueCode = #1
* #C53 ^property[1].code = #points
* #C53 ^property[1].valueDecimal = 5
* #C54 "急性脊髓损伤(<1个月)"
* #C54 ^designation[0].language = #en
* #C54 ^designation[0].value = "Acute spinal cord injury (< 1 month)"
* #C54 ^property[0].code = #tool
* #C54 ^property[0].valueCode = #1
* #C54 ^property[1].code = #points
* #C54 ^property[1].valueDecimal = 5
* #C55 "多发性创伤(<1个月)"
* #C55 ^designation[0].language = #en
* #C55 ^designation[0].value = "Multiple trauma (< 1 month)"
* #C55 ^property[0].code = #tool
* #C55 ^property[0].valueCode = #1
* #C55 ^property[1].code = #points
* #C55 ^property[1].valueDecimal = 5
* #P01 "活动性恶性肿瘤"
* #P01 ^designation[0].language = #en
* #P01 ^designation[0].value = "Active cancer"
* #P01 ^property[0].code = #tool
* #P01 ^property[0].valueCode = #2
* #P01 ^property[1].code = #points
* #P01 ^property[1].valueDecimal = 3
* #P02 "既往VTE病史"
* #P02 ^designation[0].language = #en
* #P02 ^designation[0].value = "Previous VTE"
* #P02 ^property[0].code = #tool
* #P02 ^property[0].valueCode = #2
* #P02 ^property[1].code = #points
* #P02 ^property[1].valueDecimal = 3
* #P03 "活动减少(卧床≥3天)"
* #P03 ^designation[0].language = #en
* #P03 ^designation[0].value = "Reduced mobility (bed rest ≥ 3 days)"
* #P03 ^property[0].code = #tool
* #P03 ^property[0].valueCode = #2
* #P03 ^property[1].code = #points
* #P03 ^property[1].valueDecimal = 3
* #P04 "已知的易栓症"
* #P04 ^designation[0].language = #en
* #P04 ^designation[0].value = "Known thrombophilic condition"
* #P04 ^property[0].code = #tool
* #P04 ^property[0].valueCode = #2
* #P04 ^property[1].code = #points
* #P04 ^property[1].valueDecimal = 3
* #P05 "近期(≤1个月)创伤和/或手术"
* #P05 ^designation[0].language = #en
* #P05 ^designation[0].value = "Recent (≤ 1 month) trauma and/or surgery"
* #P05 ^property[0].code = #tool
* #P05 ^property[0].valueCode = #2
* #P05 ^property[1].code = #points
* #P05 ^property[1].valueDecimal = 2
* #P06 "年龄≥70岁"
* #P06 ^designation[0].language = #en
* #P06 ^designation[0].value = "Age 70 years or more"
* #P06 ^property[0].code = #tool
* #P06 ^property[0].valueCode = #2
* #P06 ^property[1].code = #points
* #P06 ^property[1].valueDecimal = 1
* #P07 "心脏和/或呼吸衰竭"
* #P07 ^designation[0].language = #en
* #P07 ^designation[0].value = "Heart and/or respiratory failure"
* #P07 ^property[0].code = #tool
* #P07 ^property[0].valueCode = #2
* #P07 ^property[1].code = #points
* #P07 ^property[1].valueDecimal = 1
* #P08 "急性心肌梗死或缺血性脑卒中"
* #P08 ^designation[0].language = #en
* #P08 ^designation[0].value = "Acute myocardial infarction or ischaemic stroke"
* #P08 ^property[0].code = #tool
* #P08 ^property[0].valueCode = #2
* #P08 ^property[1].code = #points
* #P08 ^property[1].valueDecimal = 1
* #P09 "急性感染和/或风湿性疾病"
* #P09 ^designation[0].language = #en
* #P09 ^designation[0].value = "Acute infection and/or rheumatologic disorder"
* #P09 ^property[0].code = #tool
* #P09 ^property[0].valueCode = #2
* #P09 ^property[1].code = #points
* #P09 ^property[1].valueDecimal = 1
* #P10 "肥胖(BMI≥30)"
* #P10 ^designation[0].language = #en
* #P10 ^designation[0].value = "Obesity (BMI ≥ 30)"
* #P10 ^property[0].code = #tool
* #P10 ^property[0].valueCode = #2
* #P10 ^property[1].code = #points
* #P10 ^property[1].valueDecimal = 1
* #P11 "正在进行激素治疗"
* #P11 ^designation[0].language = #en
* #P11 ^designation[0].value = "Ongoing hormonal treatment"
* #P11 ^property[0].code = #tool
* #P11 ^property[0].valueCode = #2
* #P11 ^property[1].code = #points
* #P11 ^property[1].valueDecimal = 1

ValueSet: VteRiskFactorVS
Id: vte-risk-factor
Title: "VTE risk-assessment item"
Description: "All codes of VTE风险因素条目 (VTE risk-assessment item)."
* ^status = #active
* ^experimental = false
* include codes from system VteRiskFactor

CodeSystem: VteRiskLevel
Id: vte-risk-level
Title: "VTE risk level"
Description: "VTE风险等级. Risk band reported by the assessing tool. Medium and above (3, 4, 5) form the 中高危 population of the prophylaxis indicators. Bands per tool vary between hospitals (vte-domain.md §4.1), so the hospital reports the band it assigned. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-risk-level"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #medium-or-high
* ^property[0].type = #boolean
* ^property[0].description = "Counts as 中高危 for the prophylaxis indicators"
* #1 "极低危"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Very low risk"
* #1 ^property[0].code = #medium-or-high
* #1 ^property[0].valueBoolean = false
* #2 "低危"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Low risk"
* #2 ^property[0].code = #medium-or-high
* #2 ^property[0].valueBoolean = false
* #3 "中危"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Moderate risk"
* #3 ^property[0].code = #medium-or-high
* #3 ^property[0].valueBoolean = true
* #4 "高危"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "High risk"
* #4 ^property[0].code = #medium-or-high
* #4 ^property[0].valueBoolean = true
* #5 "极高危"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Very high risk"
* #5 ^property[0].code = #medium-or-high
* #5 ^property[0].valueBoolean = true

ValueSet: VteRiskLevelVS
Id: vte-risk-level
Title: "VTE risk level"
Description: "All codes of VTE风险等级 (VTE risk level)."
* ^status = #active
* ^experimental = false
* include codes from system VteRiskLevel

Instance: vte-risk-level-to-risk-probability
InstanceOf: ConceptMap
Usage: #definition
Title: "VTE risk level to FHIR risk probability"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/vte-risk-level-to-risk-probability"
* name = "VteRiskLevelToRiskProbability"
* title = "VTE risk level to FHIR risk probability"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/vte-risk-level"
* targetCanonical = "http://hl7.org/fhir/ValueSet/risk-probability"
* group[0].source = "https://fhir.vte-region.cn/ig/CodeSystem/vte-risk-level"
* group[0].target = "http://terminology.hl7.org/CodeSystem/risk-probability"
* group[0].element[0].code = #1
* group[0].element[0].display = "极低危"
* group[0].element[0].target[0].code = #negligible
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "低危"
* group[0].element[1].target[0].code = #low
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #3
* group[0].element[2].display = "中危"
* group[0].element[2].target[0].code = #moderate
* group[0].element[2].target[0].equivalence = #equivalent
* group[0].element[3].code = #4
* group[0].element[3].display = "高危"
* group[0].element[3].target[0].code = #high
* group[0].element[3].target[0].equivalence = #equivalent
* group[0].element[4].code = #5
* group[0].element[4].display = "极高危"
* group[0].element[4].target[0].code = #high
* group[0].element[4].target[0].equivalence = #narrower

CodeSystem: VteRiskTool
Id: vte-risk-tool
Title: "VTE risk-assessment tool"
Description: "VTE风险评估工具. The scale used for a VTE risk assessment (vte-domain.md §1.1, §4). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-risk-tool"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #1 "Caprini评分"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Caprini score"
* #2 "Padua评分"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Padua prediction score"
* #3 "Khorana评分"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Khorana score"
* #4 "RCOG评分"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "RCOG obstetric risk assessment"
* #5 "IMPROVE-VTE评分"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "IMPROVE VTE risk score"
* #9 "其他"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Other tool"

ValueSet: VteRiskToolVS
Id: vte-risk-tool
Title: "VTE risk-assessment tool"
Description: "All codes of VTE风险评估工具 (VTE risk-assessment tool)."
* ^status = #active
* ^experimental = false
* include codes from system VteRiskTool

CodeSystem: VteSite
Id: vte-site
Title: "VTE site"
Description: "血栓部位. Where the thrombus or embolus was found. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/vte-site"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* #01 "左下肢近端深静脉"
* #01 ^designation[0].language = #en
* #01 ^designation[0].value = "Left leg, proximal deep veins"
* #02 "左下肢远端深静脉"
* #02 ^designation[0].language = #en
* #02 ^designation[0].value = "Left leg, distal deep veins"
* #03 "右下肢近端深静脉"
* #03 ^designation[0].language = #en
* #03 ^designation[0].value = "Right leg, proximal deep veins"
* #04 "右下肢远端深静脉"
* #04 ^designation[0].language = #en
* #04 ^designation[0].value = "Right leg, distal deep veins"
* #05 "双下肢深静脉"
* #05 ^designation[0].language = #en
* #05 ^designation[0].value = "Both legs, deep veins"
* #06 "上肢深静脉"
* #06 ^designation[0].language = #en
* #06 ^designation[0].value = "Arm deep veins"
* #07 "肺动脉主干"
* #07 ^designation[0].language = #en
* #07 ^designation[0].value = "Main pulmonary artery"
* #08 "肺叶或肺段动脉"
* #08 ^designation[0].language = #en
* #08 ^designation[0].value = "Lobar or segmental pulmonary arteries"
* #09 "下腔静脉"
* #09 ^designation[0].language = #en
* #09 ^designation[0].value = "Inferior vena cava"
* #99 "其他部位"
* #99 ^designation[0].language = #en
* #99 ^designation[0].value = "Other site"

ValueSet: VteSiteVS
Id: vte-site
Title: "VTE site"
Description: "All codes of 血栓部位 (VTE site)."
* ^status = #active
* ^experimental = false
* include codes from system VteSite

CodeSystem: WellsInterpretation
Id: wells-interpretation
Title: "Wells score interpretation"
Description: "Wells评分结论. Clinical probability concluded from a Wells score; three-level variants use 1-3, two-level variants 4-5. Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/wells-interpretation"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #levels
* ^property[0].type = #integer
* ^property[0].description = "Scheme the conclusion belongs to: 2 (likely/unlikely) or 3 (low/moderate/high)"
* #1 "低度可能"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Low probability"
* #1 ^property[0].code = #levels
* #1 ^property[0].valueInteger = 3
* #2 "中度可能"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Moderate probability"
* #2 ^property[0].code = #levels
* #2 ^property[0].valueInteger = 3
* #3 "高度可能"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "High probability"
* #3 ^property[0].code = #levels
* #3 ^property[0].valueInteger = 3
* #4 "可能"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Likely"
* #4 ^property[0].code = #levels
* #4 ^property[0].valueInteger = 2
* #5 "不太可能"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Unlikely"
* #5 ^property[0].code = #levels
* #5 ^property[0].valueInteger = 2

ValueSet: WellsInterpretationVS
Id: wells-interpretation
Title: "Wells score interpretation"
Description: "All codes of Wells评分结论 (Wells score interpretation)."
* ^status = #active
* ^experimental = false
* include codes from system WellsInterpretation

CodeSystem: WellsVariant
Id: wells-variant
Title: "Wells score variant"
Description: "Wells评分版本. Which Wells rule and interpretation scheme was used (vte-domain.md §4.5). Source: local."
* ^url = "https://fhir.vte-region.cn/ig/CodeSystem/wells-variant"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^language = #zh-CN
* ^property[0].code = #target
* ^property[0].type = #code
* ^property[0].description = "dvt or pe: the condition the variant scores"
* ^property[1].code = #levels
* ^property[1].type = #integer
* ^property[1].description = "2: concludes likely/unlikely; 3: low/moderate/high"
* #1 "DVT Wells二分类(2003)"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Wells DVT two-level (2003)"
* #1 ^property[0].code = #target
* #1 ^property[0].valueCode = #dvt
* #1 ^property[1].code = #levels
* #1 ^property[1].valueInteger = 2
* #2 "DVT Wells三分类(1997)"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Wells DVT three-level (1997)"
* #2 ^property[0].code = #target
* #2 ^property[0].valueCode = #dvt
* #2 ^property[1].code = #levels
* #2 ^property[1].valueInteger = 3
* #3 "PE Wells二分类"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Wells PE two-tier"
* #3 ^property[0].code = #target
* #3 ^property[0].valueCode = #pe
* #3 ^property[1].code = #levels
* #3 ^property[1].valueInteger = 2
* #4 "PE Wells三分类"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Wells PE three-tier"
* #4 ^property[0].code = #target
* #4 ^property[0].valueCode = #pe
* #4 ^property[1].code = #levels
* #4 ^property[1].valueInteger = 3
* #5 "简化PE Wells评分"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Simplified Wells PE"
* #5 ^property[0].code = #target
* #5 ^property[0].valueCode = #pe
* #5 ^property[1].code = #levels
* #5 ^property[1].valueInteger = 2

ValueSet: WellsVariantVS
Id: wells-variant
Title: "Wells score variant"
Description: "All codes of Wells评分版本 (Wells score variant)."
* ^status = #active
* ^experimental = false
* include codes from system WellsVariant

Instance: wells-variant-to-assessment-type
InstanceOf: ConceptMap
Usage: #definition
Title: "Wells variant to the observation code of the score"
* url = "https://fhir.vte-region.cn/ig/ConceptMap/wells-variant-to-assessment-type"
* name = "WellsVariantToAssessmentType"
* title = "Wells variant to the observation code of the score"
* status = #active
* experimental = false
* sourceCanonical = "https://fhir.vte-region.cn/ig/ValueSet/wells-variant"
* targetCanonical = "https://fhir.vte-region.cn/ig/ValueSet/wells-score-code"
* group[0].source = "https://fhir.vte-region.cn/ig/CodeSystem/wells-variant"
* group[0].target = "https://fhir.vte-region.cn/ig/CodeSystem/vte-assessment-type"
* group[0].element[0].code = #1
* group[0].element[0].display = "DVT Wells二分类(2003)"
* group[0].element[0].target[0].code = #wells-dvt
* group[0].element[0].target[0].equivalence = #equivalent
* group[0].element[1].code = #2
* group[0].element[1].display = "DVT Wells三分类(1997)"
* group[0].element[1].target[0].code = #wells-dvt
* group[0].element[1].target[0].equivalence = #equivalent
* group[0].element[2].code = #3
* group[0].element[2].display = "PE Wells二分类"
* group[0].element[2].target[0].code = #wells-pe
* group[0].element[2].target[0].equivalence = #equivalent
* group[0].element[3].code = #4
* group[0].element[3].display = "PE Wells三分类"
* group[0].element[3].target[0].code = #wells-pe
* group[0].element[3].target[0].equivalence = #equivalent
* group[0].element[4].code = #5
* group[0].element[4].display = "简化PE Wells评分"
* group[0].element[4].target[0].code = #wells-pe
* group[0].element[4].target[0].equivalence = #equivalent
