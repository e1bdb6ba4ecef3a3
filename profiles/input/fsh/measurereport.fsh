// DEQM-style summary report of one quality indicator, for publishing indicator results.

Profile: VteSummaryMeasureReport
Parent: MeasureReport
Id: vte-summary-measurereport
Title: "VTE indicator summary report"
Description: "A summary MeasureReport of one VTE quality indicator (after the DEQM summary profile): populations with counts, score, stratifiers."
* obeys vte-mr-1
* status 1..1
* type = #summary
* measure 1..1
* date 1..1
* reporter 1..1
* period 1..1
* group 1..*
* group.population 1..*
* group.population.code 1..1
* group.population.count 1..1
* group.measureScore 0..1
* group.stratifier.code 1..*
* group.stratifier.stratum.value 1..1
* group.stratifier.stratum.population.code 1..1
* group.stratifier.stratum.population.count 1..1

Invariant: vte-mr-1
Description: "In each group the numerator count does not exceed the denominator count"
Expression: "group.all((population.where(code.coding.code = 'numerator').count.exists() and population.where(code.coding.code = 'denominator').count.exists()) implies population.where(code.coding.code = 'numerator').count <= population.where(code.coding.code = 'denominator').count)"
Severity: #error
