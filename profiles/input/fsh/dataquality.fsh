// Data-quality reports (issue 12): the Measure, its codes and the profile of the published reports.
// One report per institution (or the region) and period: a group for the overall score and one per
// GB/T 36344 dimension, each with a stratifier "rule" whose strata are the checks of
// mappings/quality (stratum.value.text = the check id). Scores are 0-1, higher is better; in a
// stratum the numerator counts the records WITHOUT the problem. Built by facade/quality/fhir.py.

CodeSystem: DataQuality
Id: data-quality
Title: "VTE data-quality report codes"
Description: "Groups and stratifiers of the data-quality reports: the overall score, the GB/T 36344 dimensions (with the Kahn categories they hold in mappings/quality/_config.yaml) and the per-rule stratifier."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* #overall "总体 (overall)" "Mean of the dimension scores."
* #conformity "规范性 (conformity)" "Kahn conformance: records refused by code and rule, codes outside their tables."
* #completeness "完整性 (completeness)" "Kahn completeness: required and recommended fields, daily volume against the hospital's history."
* #accuracy "准确性 (accuracy)" "Kahn plausibility and computational conformance: ages, scores against reported levels, corrections."
* #consistency "一致性 (consistency)" "Kahn plausibility (temporal, uniqueness) and relational conformance: time order, duplicates, orphans, records after death."
* #timeliness "时效性 (timeliness)" "Kahn completeness at the reporting deadline: lag from discharge or event to receipt."
* #rule "规则 (rule)" "Stratifier whose strata are the data-quality checks (stratum.value.text = check id)."

ValueSet: DataQualityGroups
Id: data-quality-groups
Title: "VTE data-quality report groups"
Description: "The overall score and the five dimensions a data-quality report is grouped by."
* ^status = #active
* ^experimental = false
* DataQuality#overall
* DataQuality#conformity
* DataQuality#completeness
* DataQuality#accuracy
* DataQuality#consistency
* DataQuality#timeliness

Instance: vte-data-quality
InstanceOf: Measure
Usage: #definition
Title: "VTE数据质量 (VTE data quality)"
* url = "https://fhir.vte-region.cn/ig/Measure/vte-data-quality"
* name = "VteDataQuality"
* title = "VTE数据质量"
* subtitle = "VTE data quality"
* status = #active
* experimental = false
* publisher = "区域VTE质控平台 (regional VTE quality-control platform)"
* description = "每家医院每个统计期的数据质量：各规则的合格记录比例，按 GB/T 36344 维度加权汇总为维度得分与总分。 / Data quality of each hospital and period: the share of records without each rule's problem, weighted by severity into dimension scores and an overall score."
* guidance = "Rules, thresholds and weights: mappings/quality (YAML). Counted at intake by the facade (native gateway and Excel import); see facade/quality/README.md."
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* type[0] = http://terminology.hl7.org/CodeSystem/measure-type#composite
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group[0].id = "overall"
* group[0].code = DataQuality#overall
* group[0].description = "总体 (overall): mean of the dimension scores, 0-1"
* insert DimensionGroup(1, conformity, 规范性)
* insert DimensionGroup(2, completeness, 完整性)
* insert DimensionGroup(3, accuracy, 准确性)
* insert DimensionGroup(4, consistency, 一致性)
* insert DimensionGroup(5, timeliness, 时效性)

RuleSet: DimensionGroup(n, code, text)
* group[{n}].id = "{code}"
* group[{n}].code = DataQuality#{code}
* group[{n}].description = "{text} ({code}): severity-weighted mean of its rules' proportions, 0-1"
* group[{n}].stratifier[0].id = "rule"
* group[{n}].stratifier[0].code = DataQuality#rule
* group[{n}].stratifier[0].description = "One stratum per applicable rule: records checked (denominator) and records without the problem (numerator)."

Profile: VteDataQualityMeasureReport
Parent: MeasureReport
Id: vte-dq-measurereport
Title: "VTE data-quality report"
Description: "The data-quality report of one institution (or the region) and period, for the Measure vte-data-quality: overall and dimension scores, and per rule the records checked and the records without the problem."
* obeys vte-dq-1 and vte-dq-2
* status 1..1
* type = #summary
* measure 1..1
* measure = "https://fhir.vte-region.cn/ig/Measure/vte-data-quality"
* date 1..1
* reporter 1..1
* period 1..1
* improvementNotation 1..1
* group 1..*
* group.code 1..1
* group.code from DataQualityGroups (required)
* group.stratifier.code 1..*
* group.stratifier.stratum.value 1..1
* group.stratifier.stratum.population 2..*
* group.stratifier.stratum.population.code 1..1
* group.stratifier.stratum.population.count 1..1

Invariant: vte-dq-1
Description: "Every score (group and rule stratum) lies between 0 and 1"
Expression: "group.all(measureScore.value.empty() or (measureScore.value >= 0 and measureScore.value <= 1)) and group.stratifier.stratum.all(measureScore.value.empty() or (measureScore.value >= 0 and measureScore.value <= 1))"
Severity: #error

Invariant: vte-dq-2
Description: "In each rule stratum the records without the problem do not exceed the records checked"
Expression: "group.stratifier.stratum.all(population.where(code.coding.code = 'numerator').count <= population.where(code.coding.code = 'denominator').count)"
Severity: #error
