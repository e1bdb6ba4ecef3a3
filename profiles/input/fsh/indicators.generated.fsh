// GENERATED from mappings/indicators by `vte-facade indicators conformance`
// (facade/indicators/conformance.py). Do not edit: change the YAML and regenerate.

CodeSystem: IndicatorStratifier
Id: indicator-stratifier
Title: "VTE indicator stratifiers"
Description: "How the VTE indicator MeasureReports are stratified."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* #hospital "医院 (hospital)" "The reporting institution (unified social credit code) that discharged the patient."
* #discharge-department "出院科室 (discharge department)" "The hospital-local department of discharge (出院科室)."
* #discharge-month "出院月份 (discharge month)" "The calendar month (reporting time zone) of the discharge date-time."
* #child-region "下级区域 (child region)" "The child region (administrative division code) that reported the stay; only in a parent platform's area reports."

Instance: vte-discharge-date
InstanceOf: SearchParameter
Usage: #definition
Title: "Encounter discharge date-time"
* url = "https://fhir.vte-region.cn/ig/SearchParameter/vte-discharge-date"
* name = "VteDischargeDate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "When the inpatient stay ended (Encounter.period.end); the indicators count stays by it."
* code = #vte-discharge-date
* base[0] = #Encounter
* type = #date
* expression = "Encounter.period.end"

Instance: vte-risk-assessment-rate
InstanceOf: Measure
Usage: #definition
Title: "A1 VTE风险评估率 (VTE risk-assessment rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/vte-risk-assessment-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "A1"
* version = "1"
* name = "VteRiskAssessmentRate"
* title = "VTE风险评估率"
* subtitle = "VTE risk-assessment rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "出院患者中住院期间接受过至少一次VTE风险评估（使用有效评估工具）的比例。 / Share of discharges (admissions) that received at least one VTE risk assessment with a validated tool during the stay."
* guidance = "接受VTE风险评估的出院患者人次数 / 同期出院患者总人次数 × 100% / discharges with a VTE risk assessment / all discharges × 100%. Evidence: National target 2.2.1.5.1 (NHC formula [V]); exclusions 无 per NHC; guideline wording [R] (vte-domain.md §1.2, §2.1). Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "A1"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "住院期间有VTE风险评估记录 / At least one VTE risk assessment during the stay"
* group[0].population[2].criteria.language = #application/x-fhir-query
* group[0].population[2].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:RiskAssessment:encounter:_profile=https://fhir.vte-region.cn/ig/StructureDefinition/vte-risk-assessment&_summary=count"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: vte-risk-assessment-within-24h-rate
InstanceOf: Measure
Usage: #definition
Title: "A1t 入院24小时内VTE风险评估率 (VTE risk assessment within 24 h of admission)"
* url = "https://fhir.vte-region.cn/ig/Measure/vte-risk-assessment-within-24h-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "A1t"
* version = "1"
* name = "VteRiskAssessmentWithin24hRate"
* title = "入院24小时内VTE风险评估率"
* subtitle = "VTE risk assessment within 24 h of admission"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "出院患者中首次VTE风险评估时间距入院时间不超过24小时的比例（恰好24小时计入）。 / Share of discharges whose first VTE risk assessment was at most 24 h after admission (exactly 24 h counts)."
* guidance = "入院24小时内完成VTE风险评估的出院患者人次数 / 同期出院患者总人次数 × 100% / discharges first assessed within 24 h of admission / all discharges × 100%. Evidence: Hospital dashboards and studies (评估及时率) [S]; denominator all discharges (implementations differ) [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "A1t"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "首次VTE风险评估在入院后24小时内 / First VTE risk assessment no later than 24 h after admission"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"vte-risk-assessed-within\",\"hours\":24.0}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: bleeding-risk-assessment-rate
InstanceOf: Measure
Usage: #definition
Title: "A2 出血风险评估率 (Bleeding-risk assessment rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/bleeding-risk-assessment-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "A2"
* version = "1"
* name = "BleedingRiskAssessmentRate"
* title = "出血风险评估率"
* subtitle = "Bleeding-risk assessment rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "出院患者中住院期间有出血风险评估记录的比例（分母为全部出院患者；中高危分母见A2m）。 / Share of all discharges with a documented bleeding-risk assessment during the stay (the medium/high-risk denominator is A2m)."
* guidance = "接受出血风险评估的出院患者人次数 / 同期出院患者总人次数 × 100% / discharges with a bleeding-risk assessment / all discharges × 100%. Evidence: Hospital QC systems [S]; which denominator the guideline uses is unverified, both are computed [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "A2"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "住院期间有出血风险评估记录 / At least one bleeding-risk assessment during the stay"
* group[0].population[2].criteria.language = #application/x-fhir-query
* group[0].population[2].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:RiskAssessment:encounter:_profile=https://fhir.vte-region.cn/ig/StructureDefinition/vte-bleeding-risk-assessment&_summary=count"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: bleeding-risk-assessment-rate-medium-high-risk
InstanceOf: Measure
Usage: #definition
Title: "A2m VTE中高危患者出血风险评估率 (Bleeding-risk assessment rate in medium/high VTE-risk discharges)"
* url = "https://fhir.vte-region.cn/ig/Measure/bleeding-risk-assessment-rate-medium-high-risk"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "A2m"
* version = "1"
* name = "BleedingRiskAssessmentRateMediumHighRisk"
* title = "VTE中高危患者出血风险评估率"
* subtitle = "Bleeding-risk assessment rate in medium/high VTE-risk discharges"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "VTE风险评估为中危或高危的出院患者中有出血风险评估记录的比例。 / Share of discharges at medium or high VTE risk with a documented bleeding-risk assessment."
* guidance = "中高危且接受出血风险评估的出院患者人次数 / 同期VTE中高危出院患者人次数 × 100% / medium/high-risk discharges with a bleeding-risk assessment / medium/high-risk discharges × 100%. Evidence: Hospital QC systems (VTE中高危患者出血风险评估率) [S]; denominator choice [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "A2m"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "住院期间VTE风险等级为中危或高危 / Medium or high VTE risk band during the stay"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "住院期间有出血风险评估记录 / At least one bleeding-risk assessment during the stay"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]},{\"kind\":\"bleeding-risk-assessed\"}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: appropriate-prophylaxis-rate
InstanceOf: Measure
Usage: #definition
Title: "B1 采取VTE恰当预防措施比率 (Appropriate-prophylaxis rate in medium/high-risk discharges)"
* url = "https://fhir.vte-region.cn/ig/Measure/appropriate-prophylaxis-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "B1"
* version = "1"
* name = "AppropriateProphylaxisRate"
* title = "采取VTE恰当预防措施比率"
* subtitle = "Appropriate-prophylaxis rate in medium/high-risk discharges"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "VTE中高危出院患者中接受规范预防的比例：VTE风险与出血风险均已评估，且按预防矩阵（VTE风险×出血风险，机械预防禁忌时豁免机械预防）在首次中高危评估后规定时间内开始了所需措施。 / Share of medium/high-risk discharges that received appropriate (规范) prophylaxis — VTE and bleeding risk both assessed, and the measures the prophylaxis matrix requires for the VTE and bleeding risk (mechanical waived when contraindicated) started in time after the first medium/high-risk assessment."
* guidance = "采取VTE恰当预防措施的出院患者人次数 / 同期VTE风险评估为中高危的出院患者人次数 × 100% / discharges with appropriate prophylaxis / discharges assessed at medium/high risk × 100%. Evidence: National target 2.2.1.5.2 (NHC formula [V]); matrix and timing [R] (vte-domain.md §2.1, §5.2); rules in _config.yaml. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "B1"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "住院期间VTE风险等级为中危或高危 / Medium or high VTE risk band during the stay"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "规范预防（见预防矩阵） / Appropriate prophylaxis per the matrix"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]},{\"kind\":\"appropriate-prophylaxis\"}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: pharmacological-prophylaxis-rate
InstanceOf: Measure
Usage: #definition
Title: "B2 药物预防率 (Pharmacological prophylaxis rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/pharmacological-prophylaxis-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "B2"
* version = "1"
* name = "PharmacologicalProphylaxisRate"
* title = "药物预防率"
* subtitle = "Pharmacological prophylaxis rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "VTE中高危出院患者中住院期间执行了药物预防的比例（未执行的医嘱不计）。 / Share of medium/high-risk discharges with pharmacological prophylaxis executed during the stay (orders not carried out do not count)."
* guidance = "执行药物预防的中高危出院患者人次数 / 同期中高危出院患者人次数 × 100% / medium/high-risk discharges with executed drug prophylaxis / medium/high-risk discharges × 100%. Evidence: Hospital dashboards (药物预防率) [S]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "B2"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "住院期间VTE风险等级为中危或高危 / Medium or high VTE risk band during the stay"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "有已执行的药物预防 / Pharmacological prophylaxis executed"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]},{\"kind\":\"prophylaxis-given\",\"category\":\"pharmacological\"}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: mechanical-prophylaxis-rate
InstanceOf: Measure
Usage: #definition
Title: "B3 机械预防率 (Mechanical prophylaxis rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/mechanical-prophylaxis-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "B3"
* version = "1"
* name = "MechanicalProphylaxisRate"
* title = "机械预防率"
* subtitle = "Mechanical prophylaxis rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "VTE中高危出院患者中住院期间执行了机械预防（GCS/IPC/VFP）的比例。 / Share of medium/high-risk discharges with mechanical prophylaxis (GCS, IPC, VFP) executed during the stay."
* guidance = "执行机械预防的中高危出院患者人次数 / 同期中高危出院患者人次数 × 100% / medium/high-risk discharges with executed mechanical prophylaxis / medium/high-risk discharges × 100%. Evidence: Hospital dashboards (机械预防率) [S]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#process
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "B3"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "住院期间VTE风险等级为中危或高危 / Medium or high VTE risk band during the stay"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "有已执行的机械预防 / Mechanical prophylaxis executed"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"risk-band\",\"bands\":[\"medium\",\"high\"]},{\"kind\":\"prophylaxis-given\",\"category\":\"mechanical\"}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: hospital-associated-vte-incidence
InstanceOf: Measure
Usage: #definition
Title: "C1 医院相关性VTE发生率 (Hospital-associated VTE incidence)"
* url = "https://fhir.vte-region.cn/ig/Measure/hospital-associated-vte-incidence"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "C1"
* version = "1"
* name = "HospitalAssociatedVteIncidence"
* title = "医院相关性VTE发生率"
* subtitle = "Hospital-associated VTE incidence"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "出院患者中发生医院相关性VTE的比例：住院期间新发（入院病情为“无”且确诊距入院超过24小时），或出院后90天内确诊（无论由本院还是区域内其他医院上报，经区域患者假名关联到最近一次出院）。 / Share of discharges with hospital-associated VTE — onset in hospital (not present on admission and diagnosed more than 24 h after admission) or diagnosed within 90 days after discharge, whichever hospital of the region reported it (linked to the most recent discharge through the regional patient pseudonym)."
* guidance = "发生医院相关性VTE的出院患者人次数 / 同期出院患者总人次数 × 100% / discharges with hospital-associated VTE / all discharges × 100%. Evidence: 90-day convention [V] (international), Chinese practice [R]; onset rule per HA-VTE datasets [S] (vte-domain.md §3); rules in _config.yaml. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#outcome
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#decrease
* group[0].id = "C1"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院的住院患者人次 / Inpatient stays discharged in the period"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "住院期间新发或出院后90天内发生的VTE归属于本次住院 / A VTE of in-hospital onset, or within 90 days after discharge, attributed to the stay"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: hospital-associated-vte-case-fatality
InstanceOf: Measure
Usage: #definition
Title: "C2 医院相关性VTE病死率 (Hospital-associated VTE case fatality)"
* url = "https://fhir.vte-region.cn/ig/Measure/hospital-associated-vte-case-fatality"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "C2"
* version = "1"
* name = "HospitalAssociatedVteCaseFatality"
* title = "医院相关性VTE病死率"
* subtitle = "Hospital-associated VTE case fatality"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "发生医院相关性VTE的出院患者中因该VTE死亡的比例。 / Share of discharges with hospital-associated VTE in which the patient died of that VTE."
* guidance = "医院相关性VTE相关死亡人次数 / 同期发生医院相关性VTE的出院患者人次数 × 100% / HA-VTE discharges with a VTE-related death / HA-VTE discharges × 100%. Evidence: Case-fatality form as in the national QC report (28.45% in 2022) [S]; denominator choice [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#outcome
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#decrease
* group[0].id = "C2"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "发生医院相关性VTE的出院患者人次 / Discharges with hospital-associated VTE"
* group[0].population[0].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[0].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "归属于本次住院的VTE标记为VTE相关死亡 / An attributed VTE event is marked as VTE-related death"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]},{\"kind\":\"ha-vte-death\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: potentially-preventable-vte-share
InstanceOf: Measure
Usage: #definition
Title: "C4 潜在可预防VTE占比 (Potentially preventable hospital-associated VTE share)"
* url = "https://fhir.vte-region.cn/ig/Measure/potentially-preventable-vte-share"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "C4"
* version = "1"
* name = "PotentiallyPreventableVteShare"
* title = "潜在可预防VTE占比"
* subtitle = "Potentially preventable hospital-associated VTE share"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "发生医院相关性VTE的出院患者中本次住院未接受规范预防的比例。 / Share of discharges with hospital-associated VTE whose stay did not receive appropriate (规范) prophylaxis."
* guidance = "未接受规范预防的医院相关性VTE出院患者人次数 / 同期医院相关性VTE出院患者人次数 × 100% / HA-VTE discharges without appropriate prophylaxis / HA-VTE discharges × 100%. Evidence: Hospital HA-VTE dataset (潜在可预防VTE = HA-VTE and not 规范预防) [S]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#outcome
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#decrease
* group[0].id = "C4"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "发生医院相关性VTE的出院患者人次 / Discharges with hospital-associated VTE"
* group[0].population[0].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[0].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[1].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]}]"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "本次住院未接受规范预防 / The stay did not receive appropriate prophylaxis"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"ha-vte\",\"onsets\":[\"in-hospital\",\"post-discharge\"]},{\"negate\":true,\"kind\":\"appropriate-prophylaxis\"}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: postoperative-pe-rate
InstanceOf: Measure
Usage: #definition
Title: "C5 手术患者手术后肺栓塞发生率 (Post-operative pulmonary embolism rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/postoperative-pe-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "C5"
* version = "1"
* name = "PostoperativePeRate"
* title = "手术患者手术后肺栓塞发生率"
* subtitle = "Post-operative pulmonary embolism rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "手术出院患者中出院诊断含肺栓塞且入院病情为“无”的比例（病案首页）。 / Share of surgical discharges with a pulmonary-embolism discharge diagnosis not present on admission (medical-record front page)."
* guidance = "手术后发生肺栓塞的出院患者人次数 / 同期手术患者出院人次数 × 100% / surgical discharges with a PE diagnosis not present on admission / surgical discharges × 100%. Evidence: 三级医院评审标准 2020 medical-safety indicator [V]; front-page rule 入院病情 = 4 [V, implementation]; code list I26, O88.2 [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#outcome
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#decrease
* group[0].id = "C5"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院且住院期间有手术的患者人次 / Discharges in the period with at least one operation during the stay"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:Procedure:encounter:code=urn:oid:2.16.156.10011.2.3.3.12|&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:Procedure:encounter:code=urn:oid:2.16.156.10011.2.3.3.12|&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "出院诊断含肺栓塞且入院病情为“无” / A PE discharge diagnosis with 入院病情 无"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"surgical\"},{\"kind\":\"discharge-diagnosis\",\"icd10_prefixes\":[\"I26\",\"O88.2\"],\"present_on_admission\":[\"4\"]}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."

Instance: postoperative-dvt-rate
InstanceOf: Measure
Usage: #definition
Title: "C6 手术患者手术后深静脉血栓发生率 (Post-operative deep venous thrombosis rate)"
* url = "https://fhir.vte-region.cn/ig/Measure/postoperative-dvt-rate"
* identifier[0].system = "https://fhir.vte-region.cn/ig/sid/indicator"
* identifier[0].value = "C6"
* version = "1"
* name = "PostoperativeDvtRate"
* title = "手术患者手术后深静脉血栓发生率"
* subtitle = "Post-operative deep venous thrombosis rate"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "手术出院患者中出院诊断含深静脉血栓且入院病情为“无”的比例（病案首页）。 / Share of surgical discharges with a deep-venous-thrombosis discharge diagnosis not present on admission (medical-record front page)."
* guidance = "手术后发生深静脉血栓的出院患者人次数 / 同期手术患者出院人次数 × 100% / surgical discharges with a DVT diagnosis not present on admission / surgical discharges × 100%. Evidence: 三级医院评审标准 2020 medical-safety indicator [V]; I80.2 and I82.8 used in QC code [V]; rest of the list [R]. Counted per inpatient stay (人次) by discharge date-time in the period."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#outcome
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#decrease
* group[0].id = "C6"
* group[0].population[0].id = "initial-population"
* group[0].population[0].code = http://terminology.hl7.org/CodeSystem/measure-population#initial-population
* group[0].population[0].description = "统计期内出院且住院期间有手术的患者人次 / Discharges in the period with at least one operation during the stay"
* group[0].population[0].criteria.language = #application/x-fhir-query
* group[0].population[0].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:Procedure:encounter:code=urn:oid:2.16.156.10011.2.3.3.12|&_summary=count"
* group[0].population[1].id = "denominator"
* group[0].population[1].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group[0].population[1].description = "同初始人群 / Same as the initial population"
* group[0].population[1].criteria.language = #application/x-fhir-query
* group[0].population[1].criteria.expression = "Encounter?_tag=https://fhir.vte-region.cn/ig/CodeSystem/reporting-organization|{org}&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&vte-discharge-date=ge{periodStart}&vte-discharge-date=lt{periodEnd}&_has:Procedure:encounter:code=urn:oid:2.16.156.10011.2.3.3.12|&_summary=count"
* group[0].population[2].id = "numerator"
* group[0].population[2].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group[0].population[2].description = "出院诊断含深静脉血栓且入院病情为“无” / A DVT discharge diagnosis with 入院病情 无"
* group[0].population[2].criteria.language = #text/x-vte-indicator-criteria
* group[0].population[2].criteria.expression = "[{\"kind\":\"surgical\"},{\"kind\":\"discharge-diagnosis\",\"icd10_prefixes\":[\"I80.1\",\"I80.2\",\"I80.3\",\"I82.8\",\"I82.9\",\"O22.3\",\"O87.1\"],\"present_on_admission\":[\"4\"]}]"
* group[0].stratifier[0].id = "hospital"
* group[0].stratifier[0].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#hospital
* group[0].stratifier[0].description = "The reporting institution (unified social credit code) that discharged the patient."
* group[0].stratifier[1].id = "discharge-department"
* group[0].stratifier[1].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-department
* group[0].stratifier[1].description = "The hospital-local department of discharge (出院科室)."
* group[0].stratifier[2].id = "discharge-month"
* group[0].stratifier[2].code = https://fhir.vte-region.cn/ig/CodeSystem/indicator-stratifier#discharge-month
* group[0].stratifier[2].description = "The calendar month (reporting time zone) of the discharge date-time."
