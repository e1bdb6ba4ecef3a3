// Search parameters on the guide's extensions, so indicator queries can filter and stratify
// with plain FHIR search (e.g. Encounter?vte-discharge-department=...).

RuleSet: ExtensionTokenSearch(id, base, ext)
* url = "https://fhir.vte-region.cn/ig/SearchParameter/{id}"
* name = "{id}"
* status = #active
* experimental = false
* code = #{id}
* base = #{base}
* type = #token
* expression = "{base}.extension('https://fhir.vte-region.cn/ig/StructureDefinition/{ext}').value"
* xpathUsage = #normal

Instance: vte-discharge-department
InstanceOf: SearchParameter
Usage: #definition
Title: "Discharge department of a stay"
* insert ExtensionTokenSearch(vte-discharge-department, Encounter, discharge-department)
* description = "Discharge department (hospital-local code) of an inpatient stay"

Instance: vte-present-on-admission
InstanceOf: SearchParameter
Usage: #definition
Title: "Condition on admission (入院病情)"
* insert ExtensionTokenSearch(vte-present-on-admission, Condition, present-on-admission)
* description = "入院病情 of a diagnosis or VTE event; 4 = arose in hospital"

Instance: vte-event-type
InstanceOf: SearchParameter
Usage: #definition
Title: "VTE event type"
* insert ExtensionTokenSearch(vte-event-type, Condition, vte-event-type)
* description = "VTE event type: DVT, PTE or both"
