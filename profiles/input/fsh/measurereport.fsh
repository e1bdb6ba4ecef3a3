// DEQM-style summary report of one quality indicator, for publishing indicator results.

Profile: VteSummaryMeasureReport
Parent: MeasureReport
Id: vte-summary-measurereport
Title: "VTE indicator summary report"
Description: "A summary MeasureReport of one VTE quality indicator (after the DEQM summary profile): populations with counts, score, stratifiers. When no one is left in the denominator the score has no value: the group or stratum then carries measureScore with only a data-absent-reason (not-applicable), and its populations keep their counts (zero included)."
* obeys vte-mr-1 and vte-mr-2 and vte-mr-3
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
* group.measureScore 1..1
* group.stratifier.stratum.measureScore 1..1
* group.stratifier.code 1..*
* group.stratifier.stratum.value 1..1
* group.stratifier.stratum.population.code 1..1
* group.stratifier.stratum.population.count 1..1

Invariant: vte-mr-1
Description: "In each group the numerator count does not exceed the denominator count"
Expression: "group.all((population.where(code.coding.code = 'numerator').count.exists() and population.where(code.coding.code = 'denominator').count.exists()) implies population.where(code.coding.code = 'numerator').count <= population.where(code.coding.code = 'denominator').count)"
Severity: #error

Invariant: vte-mr-2
Description: "Each group and stratum has either a score value or a data-absent-reason in its place, never both"
Expression: "(group | group.stratifier.stratum).all(measureScore.value.exists() xor measureScore.extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists())"
Severity: #error

Invariant: vte-mr-3
Description: "The score is absent exactly when the denominator minus its exclusions is zero"
Expression: "(group | group.stratifier.stratum).all(measureScore.value.exists() = (population.where(code.coding.code = 'denominator').count.first() > iif(population.where(code.coding.code = 'denominator-exclusion').exists(), population.where(code.coding.code = 'denominator-exclusion').count.first(), 0)))"
Severity: #error
