"""The code systems, extension URLs and search parameters the engine searches and reads by.

Systems come from the data dictionary (``mappings/``), so a renamed code table cannot silently
make every count zero. R4 has no search on discharge date, discharge department or 入院病情:
the guide defines ``vte-discharge-department`` and ``vte-present-on-admission``
(profiles/input/fsh/searchparameters.fsh) and the indicators add ``vte-discharge-date``
(indicators.generated.fsh); a test checks that the built guide has all three as used here.
"""

from __future__ import annotations

from dataclasses import dataclass

from facade.dictionary.loader import Dictionary
from facade.fhir.naming import CANONICAL, REPORTING_ORG_TAG, profile_url

IMP = "http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP"
ICD10_SYSTEM_FIELD = ("case", "diagnoses", "icd10Code")
ICD9_SYSTEM_FIELD = ("case", "operations", "operationCode")


@dataclass(frozen=True)
class SearchParam:
    """One custom SearchParameter of the guide."""

    code: str
    base: str
    type: str
    expression: str
    title: str
    description: str

    @property
    def url(self) -> str:
        """Canonical URL."""
        return f"{CANONICAL}/SearchParameter/{self.code}"


DISCHARGE_DATE = SearchParam(
    "vte-discharge-date",
    "Encounter",
    "date",
    "Encounter.period.end",
    "Encounter discharge date-time",
    "When the inpatient stay ended (Encounter.period.end); the indicators count stays by it.",
)
DISCHARGE_DEPARTMENT = SearchParam(
    "vte-discharge-department",
    "Encounter",
    "token",
    f"Encounter.extension('{CANONICAL}/StructureDefinition/discharge-department').value",
    "Encounter discharge department",
    "The hospital-local department of discharge (discharge-department extension); indicators are stratified by it.",
)
PRESENT_ON_ADMISSION = SearchParam(
    "vte-present-on-admission",
    "Condition",
    "token",
    f"Condition.extension('{CANONICAL}/StructureDefinition/present-on-admission').value",
    "Condition present on admission (入院病情)",
    "The 入院病情 code of a diagnosis or VTE event (present-on-admission extension); 4 = arose in hospital.",
)
# Every search parameter the engine uses, and the ones the indicators' generated FSH defines.
SEARCH_PARAMS = (DISCHARGE_DATE, DISCHARGE_DEPARTMENT, PRESENT_ON_ADMISSION)
OWN_SEARCH_PARAMS = (DISCHARGE_DATE,)


@dataclass(frozen=True)
class Vocabulary:
    """Everything the engine matches codes against."""

    assessment_type: str
    risk_tool: str
    risk_level: str
    bleeding_level: str
    prophylaxis_category: str
    admission_condition: str
    vte_event_type: str
    icd10: str
    icd9: str
    # native execution-status code -> FHIR status (Procedure / MedicationAdministration)
    fhir_status: dict[str, str]
    tenant_tag: str = REPORTING_ORG_TAG

    @property
    def risk_profile(self) -> str:
        """Profile of VTE risk assessments."""
        return profile_url("vte-risk-assessment")

    @property
    def bleeding_profile(self) -> str:
        """Profile of bleeding-risk assessments."""
        return profile_url("vte-bleeding-risk-assessment")

    @property
    def diagnosis_profile(self) -> str:
        """Profile of front-page diagnoses."""
        return profile_url("vte-encounter-diagnosis")

    @property
    def event_profile(self) -> str:
        """Profile of VTE events."""
        return profile_url("vte-event")

    @staticmethod
    def extension(name: str) -> str:
        """URL of one of the guide's extensions."""
        return f"{CANONICAL}/StructureDefinition/{name}"

    @classmethod
    def from_dictionary(cls, dictionary: Dictionary) -> Vocabulary:
        """Read the systems from the loaded dictionary (KeyError names what is missing)."""
        _, status_map = dictionary.concept_map("execution-status-to-event-status")
        return cls(
            assessment_type=dictionary.code_table("vte-assessment-type").system,
            risk_tool=dictionary.code_table("vte-risk-tool").system,
            risk_level=dictionary.code_table("vte-risk-level").system,
            bleeding_level=dictionary.code_table("bleeding-risk-level").system,
            prophylaxis_category=dictionary.code_table("prophylaxis-category").system,
            admission_condition=dictionary.code_table("admission-condition").system,
            vte_event_type=dictionary.code_table("vte-event-type").system,
            icd10=_field_system(dictionary, *ICD10_SYSTEM_FIELD),
            icd9=_field_system(dictionary, *ICD9_SYSTEM_FIELD),
            fhir_status={code: target.code for code, target in status_map.mappings.items()},
        )


def _field_system(dictionary: Dictionary, record_type: str, group: str, name: str) -> str:
    for owner, field in dictionary.record_types[record_type].all_fields():
        if owner is not None and owner.name == group and field.name == name and field.code_system:
            return field.code_system
    raise KeyError(f"{record_type}.{group}.{name} has no code_system")
