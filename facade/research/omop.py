"""OMOP CDM 5.4 tables from the de-identified FHIR resources of an extract.

Tables: person (one per research pseudonym: the same person in several hospitals is one person),
visit_occurrence (one per stay), condition_occurrence (diagnoses, VTE events),
procedure_occurrence (operations; basic and mechanical prophylaxis), drug_exposure
(pharmacological prophylaxis), measurement (VTE and bleeding risk assessments), observation
(mechanical-contraindication and Wells assessments), death, care_site (reporting hospitals) and
location (the province the research view keeps). Events that did not happen (status
``not-done``) are not loaded. A row's table follows the domain of its standard concept when the
vocabulary maps it elsewhere (OHDSI routing rule). ``*_source_value`` always carries the code as
sent; concept ids come only from the loaded vocabulary (mappings/research/omop.yaml), else 0.
Surrogate ids are integers numbered within the extract; the FHIR research id of the row's
resource goes into the ``*_source_value`` of person and visit only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from facade.fhir.naming import CANONICAL, REPORTING_ORG_TAG, RESEARCH_PSEUDONYM_SYSTEM
from facade.indicators.facts import coding_code as _code, extension_value
from facade.research.vocab import Concept, Vocabulary

_SD = f"{CANONICAL}/StructureDefinition/"
_CS = f"{CANONICAL}/CodeSystem/"
DISPOSITION_SYSTEM = "urn:oid:2.16.156.10011.2.3.1.265"
DIED = "5"


class OmopConfig(BaseModel):
    """``mappings/research/omop.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    systems: dict[str, list[str]]
    source_vocabularies: list[str]
    concepts: dict[str, int]


def load_config(path: Path) -> OmopConfig:
    """Read the OMOP mapping configuration."""
    return OmopConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _c(*names: str, kind: str | None = None) -> list[tuple[str, str | None]]:
    return [(n, kind) for n in names]


_I, _D = "bigint", "date"
COLUMNS: dict[str, list[tuple[str, str | None]]] = {
    "person": [
        ("person_id", _I),
        ("gender_concept_id", _I),
        ("year_of_birth", _I),
        ("month_of_birth", _I),
        ("day_of_birth", _I),
        ("birth_datetime", None),
        ("race_concept_id", _I),
        ("ethnicity_concept_id", _I),
        ("location_id", _I),
        ("provider_id", _I),
        ("care_site_id", _I),
        ("person_source_value", None),
        ("gender_source_value", None),
        ("gender_source_concept_id", _I),
        ("race_source_value", None),
        ("race_source_concept_id", _I),
        ("ethnicity_source_value", None),
        ("ethnicity_source_concept_id", _I),
    ],
    "visit_occurrence": [
        ("visit_occurrence_id", _I),
        ("person_id", _I),
        ("visit_concept_id", _I),
        ("visit_start_date", _D),
        ("visit_start_datetime", None),
        ("visit_end_date", _D),
        ("visit_end_datetime", None),
        ("visit_type_concept_id", _I),
        ("provider_id", _I),
        ("care_site_id", _I),
        ("visit_source_value", None),
        ("visit_source_concept_id", _I),
        ("admitted_from_concept_id", _I),
        ("admitted_from_source_value", None),
        ("discharged_to_concept_id", _I),
        ("discharged_to_source_value", None),
        ("preceding_visit_occurrence_id", _I),
    ],
    "condition_occurrence": [
        ("condition_occurrence_id", _I),
        ("person_id", _I),
        ("condition_concept_id", _I),
        ("condition_start_date", _D),
        ("condition_start_datetime", None),
        ("condition_end_date", _D),
        ("condition_end_datetime", None),
        ("condition_type_concept_id", _I),
        ("condition_status_concept_id", _I),
        ("stop_reason", None),
        ("provider_id", _I),
        ("visit_occurrence_id", _I),
        ("visit_detail_id", _I),
        ("condition_source_value", None),
        ("condition_source_concept_id", _I),
        ("condition_status_source_value", None),
    ],
    "procedure_occurrence": [
        ("procedure_occurrence_id", _I),
        ("person_id", _I),
        ("procedure_concept_id", _I),
        ("procedure_date", _D),
        ("procedure_datetime", None),
        ("procedure_end_date", _D),
        ("procedure_end_datetime", None),
        ("procedure_type_concept_id", _I),
        ("modifier_concept_id", _I),
        ("quantity", _I),
        ("provider_id", _I),
        ("visit_occurrence_id", _I),
        ("visit_detail_id", _I),
        ("procedure_source_value", None),
        ("procedure_source_concept_id", _I),
        ("modifier_source_value", None),
    ],
    "drug_exposure": [
        ("drug_exposure_id", _I),
        ("person_id", _I),
        ("drug_concept_id", _I),
        ("drug_exposure_start_date", _D),
        ("drug_exposure_start_datetime", None),
        ("drug_exposure_end_date", _D),
        ("drug_exposure_end_datetime", None),
        ("verbatim_end_date", _D),
        ("drug_type_concept_id", _I),
        ("stop_reason", None),
        ("refills", _I),
        ("quantity", "decimal"),
        ("days_supply", _I),
        ("sig", None),
        ("route_concept_id", _I),
        ("lot_number", None),
        ("provider_id", _I),
        ("visit_occurrence_id", _I),
        ("visit_detail_id", _I),
        ("drug_source_value", None),
        ("drug_source_concept_id", _I),
        ("route_source_value", None),
        ("dose_unit_source_value", None),
    ],
    "measurement": [
        ("measurement_id", _I),
        ("person_id", _I),
        ("measurement_concept_id", _I),
        ("measurement_date", _D),
        ("measurement_datetime", None),
        ("measurement_time", None),
        ("measurement_type_concept_id", _I),
        ("operator_concept_id", _I),
        ("value_as_number", "decimal"),
        ("value_as_concept_id", _I),
        ("unit_concept_id", _I),
        ("range_low", "decimal"),
        ("range_high", "decimal"),
        ("provider_id", _I),
        ("visit_occurrence_id", _I),
        ("visit_detail_id", _I),
        ("measurement_source_value", None),
        ("measurement_source_concept_id", _I),
        ("unit_source_value", None),
        ("unit_source_concept_id", _I),
        ("value_source_value", None),
        ("measurement_event_id", _I),
        ("meas_event_field_concept_id", _I),
    ],
    "observation": [
        ("observation_id", _I),
        ("person_id", _I),
        ("observation_concept_id", _I),
        ("observation_date", _D),
        ("observation_datetime", None),
        ("observation_type_concept_id", _I),
        ("value_as_number", "decimal"),
        ("value_as_string", None),
        ("value_as_concept_id", _I),
        ("qualifier_concept_id", _I),
        ("unit_concept_id", _I),
        ("provider_id", _I),
        ("visit_occurrence_id", _I),
        ("visit_detail_id", _I),
        ("observation_source_value", None),
        ("observation_source_concept_id", _I),
        ("unit_source_value", None),
        ("qualifier_source_value", None),
        ("value_source_value", None),
        ("observation_event_id", _I),
        ("obs_event_field_concept_id", _I),
    ],
    "death": [
        ("person_id", _I),
        ("death_date", _D),
        ("death_datetime", None),
        ("death_type_concept_id", _I),
        ("cause_concept_id", _I),
        ("cause_source_value", None),
        ("cause_source_concept_id", _I),
    ],
    "care_site": [
        ("care_site_id", _I),
        ("care_site_name", None),
        ("place_of_service_concept_id", _I),
        ("location_id", _I),
        ("care_site_source_value", None),
        ("place_of_service_source_value", None),
    ],
    "location": [
        ("location_id", _I),
        ("address_1", None),
        ("address_2", None),
        ("city", None),
        ("state", None),
        ("zip", None),
        ("county", None),
        ("location_source_value", None),
        ("country_concept_id", _I),
        ("country_source_value", None),
        ("latitude", "decimal"),
        ("longitude", "decimal"),
    ],
}
# Event tables: (id column, concept, start date, start datetime, end date, end datetime,
# type concept, source value, source concept) — used when routing a row by domain.
_EVENT = {
    "condition_occurrence": (
        "condition_occurrence_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_start_datetime",
        "condition_end_date",
        "condition_end_datetime",
        "condition_type_concept_id",
        "condition_source_value",
        "condition_source_concept_id",
    ),
    "procedure_occurrence": (
        "procedure_occurrence_id",
        "procedure_concept_id",
        "procedure_date",
        "procedure_datetime",
        "procedure_end_date",
        "procedure_end_datetime",
        "procedure_type_concept_id",
        "procedure_source_value",
        "procedure_source_concept_id",
    ),
    "drug_exposure": (
        "drug_exposure_id",
        "drug_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_start_datetime",
        "drug_exposure_end_date",
        "drug_exposure_end_datetime",
        "drug_type_concept_id",
        "drug_source_value",
        "drug_source_concept_id",
    ),
    "measurement": (
        "measurement_id",
        "measurement_concept_id",
        "measurement_date",
        "measurement_datetime",
        None,
        None,
        "measurement_type_concept_id",
        "measurement_source_value",
        "measurement_source_concept_id",
    ),
    "observation": (
        "observation_id",
        "observation_concept_id",
        "observation_date",
        "observation_datetime",
        None,
        None,
        "observation_type_concept_id",
        "observation_source_value",
        "observation_source_concept_id",
    ),
}
_DOMAIN_TABLE = {
    "Condition": "condition_occurrence",
    "Procedure": "procedure_occurrence",
    "Drug": "drug_exposure",
    "Measurement": "measurement",
    "Observation": "observation",
}


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> str | None:
    # Local wall-clock time as sent (the offset is the region's; OMOP datetimes carry none).
    if not isinstance(value, str) or len(value) < 19:
        return None
    return value[:10] + " " + value[11:19]


def _ref(resource: dict[str, Any], key: str) -> str | None:
    value = (
        (resource.get(key) or {}).get("reference") if isinstance(resource.get(key), dict) else None
    )
    return value.split("/")[-1] if isinstance(value, str) else None


def _ext(resource: dict[str, Any], name: str) -> Any:
    return extension_value(resource, _SD + name)


def _profiled(resource: dict[str, Any], name: str) -> bool:
    return _SD + name in ((resource.get("meta") or {}).get("profile") or [])


class OmopBuilder:
    """Collects rows table by table; feed Patients, then Encounters, then everything else."""

    def __init__(self, vocabulary: Vocabulary, config: OmopConfig) -> None:
        self.vocab = vocabulary
        self.config = config
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in COLUMNS}
        self._person: dict[str, int] = {}  # research patient id -> person_id
        self._person_key: dict[str, int] = {}  # pseudonym (or patient id) -> person_id
        self._visit: dict[str, int] = {}
        self._visit_start: dict[str, str] = {}
        self._care_site: dict[str, int] = {}
        self._location: dict[str, int] = {}
        self._dead: set[int] = set()
        self._next: dict[str, int] = {}
        self.ehr = vocabulary.fixed(config.concepts.get("ehr", 0))

    def _id(self, table: str) -> int:
        self._next[table] = self._next.get(table, 0) + 1
        return self._next[table]

    def add(self, resource: dict[str, Any]) -> None:
        """Turn one resource into rows (unknown types are ignored)."""
        handler: Callable[[dict[str, Any]], None] | None = {
            "Patient": self._patient,
            "Encounter": self._encounter,
            "Condition": self._condition,
            "Procedure": self._procedure,
            "MedicationAdministration": self._drug,
            "RiskAssessment": self._risk,
            "Observation": self._observation,
        }.get(str(resource.get("resourceType")))
        if handler is not None:
            handler(resource)

    # -- people and places

    def _patient(self, patient: dict[str, Any]) -> None:
        rid = str(patient.get("id"))
        pseudonym = next(
            (
                str(i.get("value"))
                for i in patient.get("identifier") or []
                if i.get("system") == RESEARCH_PSEUDONYM_SYSTEM and i.get("value")
            ),
            None,
        )
        key = pseudonym or f"Patient/{rid}"
        if key in self._person_key:
            self._person[rid] = self._person_key[key]
            return
        person_id = self._id("person")
        self._person_key[key] = self._person[rid] = person_id
        gender = patient.get("gender")
        concept = self.config.concepts.get(str(gender), 0) if gender in ("male", "female") else 0
        birth = str(patient.get("birthDate") or "")
        state = next((a.get("state") for a in patient.get("address") or [] if a.get("state")), None)
        self.rows["person"].append(
            {
                "person_id": person_id,
                "gender_concept_id": self.vocab.fixed(concept),
                "year_of_birth": int(birth[:4]) if birth[:4].isdigit() else None,
                "race_concept_id": 0,
                "ethnicity_concept_id": 0,
                "location_id": self._location_of(state),
                "person_source_value": key,
                "gender_source_value": _code(_ext(patient, "gbt-2261-1-sex")) or gender,
                "gender_source_concept_id": 0,
                "race_source_concept_id": 0,
                "ethnicity_source_concept_id": 0,
            }
        )
        died = patient.get("deceasedDateTime")
        if isinstance(died, str):
            self._death(person_id, died)

    def _location_of(self, state: Any) -> int | None:
        if not isinstance(state, str) or not state:
            return None
        if state not in self._location:
            self._location[state] = self._id("location")
            self.rows["location"].append(
                {
                    "location_id": self._location[state],
                    "state": state,
                    "location_source_value": state,
                    "country_concept_id": 0,
                }
            )
        return self._location[state]

    def _care_site_of(self, resource: dict[str, Any]) -> int | None:
        org = next(
            (
                str(t.get("code"))
                for t in (resource.get("meta") or {}).get("tag") or []
                if t.get("system") == REPORTING_ORG_TAG
            ),
            None,
        )
        if org is None:
            return None
        if org not in self._care_site:
            self._care_site[org] = self._id("care_site")
            self.rows["care_site"].append(
                {
                    "care_site_id": self._care_site[org],
                    "place_of_service_concept_id": 0,
                    "care_site_source_value": org,
                    "place_of_service_source_value": "inpatient",
                }
            )
        return self._care_site[org]

    def _death(self, person_id: int, when: str) -> None:
        if person_id in self._dead:
            return
        self._dead.add(person_id)
        self.rows["death"].append(
            {
                "person_id": person_id,
                "death_date": _date(when),
                "death_datetime": _datetime(when),
                "death_type_concept_id": self.ehr,
                "cause_concept_id": 0,
                "cause_source_concept_id": 0,
            }
        )

    # -- stays and events

    def _encounter(self, encounter: dict[str, Any]) -> None:
        rid = str(encounter.get("id"))
        person = self._person.get(_ref(encounter, "subject") or "")
        if person is None:
            return
        visit_id = self._id("visit_occurrence")
        self._visit[rid] = visit_id
        period = encounter.get("period") or {}
        if isinstance(period.get("start"), str):
            self._visit_start[rid] = period["start"]
        disposition = _code(
            (encounter.get("hospitalization") or {}).get("dischargeDisposition"), DISPOSITION_SYSTEM
        )
        self.rows["visit_occurrence"].append(
            {
                "visit_occurrence_id": visit_id,
                "person_id": person,
                "visit_concept_id": self.vocab.fixed(
                    self.config.concepts.get("inpatient_visit", 0)
                ),
                "visit_start_date": _date(period.get("start")),
                "visit_start_datetime": _datetime(period.get("start")),
                "visit_end_date": _date(period.get("end")),
                "visit_end_datetime": _datetime(period.get("end")),
                "visit_type_concept_id": self.ehr,
                "care_site_id": self._care_site_of(encounter),
                "visit_source_value": f"Encounter/{rid}",
                "visit_source_concept_id": 0,
                "admitted_from_concept_id": 0,
                "discharged_to_concept_id": 0,
                "discharged_to_source_value": disposition,
            }
        )
        if disposition == DIED and period.get("end"):
            self._death(person, str(period["end"]))

    def _event(
        self,
        default: str,
        resource: dict[str, Any],
        visit_key: str,
        source_value: str | None,
        vocabularies: list[str],
        start: Any,
        end: Any,
        extra: dict[str, Any],
    ) -> None:
        person = self._person.get(_ref(resource, "subject") or "")
        if person is None:
            return
        source: Concept | None = None
        for vocabulary in vocabularies:
            source = self.vocab.source(vocabulary, source_value or "")
            if source is not None:
                break
        standard = self.vocab.standard(source)
        table = _DOMAIN_TABLE.get(standard.domain_id, default) if standard else default
        id_col, concept, d1, dt1, d2, dt2, type_col, source_col, source_concept = _EVENT[table]
        row: dict[str, Any] = {
            id_col: self._id(table),
            "person_id": person,
            concept: standard.concept_id if standard else 0,
            d1: _date(start),
            dt1: _datetime(start),
            type_col: self.ehr,
            "visit_occurrence_id": self._visit.get(_ref(resource, visit_key) or ""),
            source_col: source_value,
            source_concept: source.concept_id if source else 0,
        }
        if d2 and dt2:
            row[d2], row[dt2] = _date(end), _datetime(end)
        if table == default:
            row.update(extra)
        self.rows[table].append(row)

    def _vocabularies(self, system: str) -> list[str]:
        return self.config.systems.get(system, [])

    def _coded(self, concept: Any) -> tuple[str | None, list[str]]:
        for system in self.config.systems:
            code = _code(concept, system)
            if code:
                return code, self._vocabularies(system)
        return None, []

    def _condition(self, condition: dict[str, Any]) -> None:
        code, vocabularies = self._coded(condition.get("code"))
        start = condition.get("recordedDate") or condition.get("onsetDateTime")
        if start is None:  # a discharge diagnosis is dated by its stay
            start = self._visit_start.get(_ref(condition, "encounter") or "")
        status = (
            "vte-event"
            if _profiled(condition, "vte-event")
            else _code(_ext(condition, "diagnosis-type"))
        )
        extra = {"condition_status_concept_id": 0, "condition_status_source_value": status}
        self._event(
            "condition_occurrence", condition, "encounter", code, vocabularies, start, None, extra
        )

    def _procedure(self, procedure: dict[str, Any]) -> None:
        if procedure.get("status") == "not-done":
            return
        period = procedure.get("performedPeriod") or {}
        code, vocabularies = self._coded(procedure.get("code"))
        if code is None:
            category = _code(procedure.get("category"), _CS + "prophylaxis-category")
            code = f"prophylaxis-category:{category}" if category else None
        self._event(
            "procedure_occurrence",
            procedure,
            "encounter",
            code,
            vocabularies,
            period.get("start"),
            period.get("end"),
            {"modifier_concept_id": 0},
        )

    def _drug(self, administration: dict[str, Any]) -> None:
        if administration.get("status") == "not-done":
            return
        period = administration.get("effectivePeriod") or {}
        drug = _code(administration.get("medicationCodeableConcept"), _CS + "prophylaxis-drug")
        dosage = administration.get("dosage") or {}
        dose = dosage.get("dose") or {}
        extra = {
            "route_concept_id": 0,
            "route_source_value": _code(dosage.get("route")),
            "quantity": dose.get("value"),
            "dose_unit_source_value": dose.get("unit"),
            "verbatim_end_date": _date(period.get("end")),
        }
        source = f"prophylaxis-drug:{drug}" if drug else None
        self._event(
            "drug_exposure",
            administration,
            "context",
            source,
            [],
            period.get("start"),
            period.get("end"),
            extra,
        )

    def _risk(self, assessment: dict[str, Any]) -> None:
        kind = _code(assessment.get("code"), _CS + "vte-assessment-type") or "risk"
        tool = _code(assessment.get("method"))
        score = _ext(assessment, "total-score")
        level = _code(((assessment.get("prediction") or [{}])[0]).get("qualitativeRisk"))
        extra = {
            "value_as_number": score,
            "value_as_concept_id": 0,
            "unit_concept_id": 0,
            "value_source_value": level,
            "operator_concept_id": 0,
            "unit_source_concept_id": 0,
        }
        source = f"{kind}:{tool}" if tool else kind
        self._event(
            "measurement",
            assessment,
            "encounter",
            source,
            [],
            assessment.get("occurrenceDateTime"),
            None,
            extra,
        )

    def _observation(self, observation: dict[str, Any]) -> None:
        kind = _code(observation.get("code")) or "observation"
        value: Any = next((v for k, v in observation.items() if k.startswith("value")), None)
        extra = {
            "value_as_number": value
            if isinstance(value, int | float) and not isinstance(value, bool)
            else None,
            "value_as_string": str(value).lower() if isinstance(value, bool) else None,
            "value_as_concept_id": 0,
            "qualifier_concept_id": 0,
            "unit_concept_id": 0,
            "value_source_value": None if value is None else str(value).lower(),
        }
        self._event(
            "observation",
            observation,
            "encounter",
            kind,
            [],
            observation.get("effectiveDateTime"),
            None,
            extra,
        )
