"""What the generator plans (hospitals, people, stays) and how a plan becomes native VTE-X records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

NATIVE_FORMAT = "%Y-%m-%d %H:%M:%S"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰"

# Record types in the order a hospital must send them (a child needs its case first).
RECORD_TYPES = (
    "organization",
    "case",
    "vte-risk",
    "bleeding-risk",
    "mech-contraindication",
    "prophylaxis",
    "vte-event",
)
SERVICE_CODES = {
    "organization": "VTE.ORG.UPLOAD",
    "case": "VTE.CASE.UPLOAD",
    "vte-risk": "VTE.RISK.UPLOAD",
    "bleeding-risk": "VTE.BLEED.UPLOAD",
    "mech-contraindication": "VTE.MECHCI.UPLOAD",
    "prophylaxis": "VTE.PREVENT.UPLOAD",
    "vte-event": "VTE.OUTCOME.UPLOAD",
}


def stamp(moment: datetime) -> str:
    """A native date-time (local time, no offset)."""
    return moment.strftime(NATIVE_FORMAT)


@dataclass(frozen=True)
class Department:
    """A department of one hospital; surgical ones operate and assess with Caprini."""

    code: str
    name: str
    surgical: bool
    tool: str  # vte-risk-tool code used there


@dataclass
class Hospital:
    """One reporting institution of the synthetic region."""

    index: int
    org_code: str
    name: str
    grade: str
    departments: list[Department]
    quality: float  # 0..1: how reliably the hospital assesses and gives prophylaxis


@dataclass
class Person:
    """A resident who may be admitted to several hospitals (same identity number everywhere)."""

    id_number: str
    sex: str
    birth: date
    local_ids: dict[str, str] = field(default_factory=dict)
    died_at: datetime | None = None

    @property
    def name(self) -> str:
        """A synthetic Chinese name, fixed by the identity number (hospitals send 患者姓名; intake
        drops it). Derived by hashing, so adding it did not change any generated region."""
        digest = hashlib.sha256(self.id_number.encode()).digest()
        return _SURNAMES[digest[0] % len(_SURNAMES)] + "".join(
            _GIVEN[b % len(_GIVEN)] for b in digest[1 : 2 + digest[3] % 2]
        )

    def local_id(self, org_code: str, sequence: int) -> str:
        """The hospital's own patient id for this person, made on first use."""
        return self.local_ids.setdefault(org_code, f"P{sequence:07d}")


@dataclass(frozen=True)
class Assessment:
    """A VTE risk assessment: hours after admission, tool, total score, reported level, timing code."""

    at: datetime
    tool: str
    score: float
    level: str
    timing: str


@dataclass(frozen=True)
class Bleeding:
    """A bleeding-risk assessment and its result (1 low, 2 high)."""

    at: datetime
    tool: str
    level: str


@dataclass(frozen=True)
class MechCheck:
    """A mechanical-prophylaxis contraindication assessment."""

    at: datetime
    contraindicated: bool


@dataclass(frozen=True)
class Measure:
    """One prophylaxis order: category code 1/2/3, order and execution times, status code."""

    category: str
    ordered: datetime
    started: datetime | None
    ended: datetime | None
    status: str


@dataclass(frozen=True)
class Operation:
    """A front-page operation."""

    code: str
    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Diagnosis:
    """A front-page discharge diagnosis with its 入院病情."""

    code: str
    name: str
    principal: bool
    present_on_admission: str


@dataclass(frozen=True)
class Event:
    """A confirmed VTE event reported against the stay it is attached to."""

    diagnosed: datetime
    vte_type: str  # 1 DVT, 2 PTE, 3 both
    present_on_admission: str
    related_death: bool


@dataclass
class Stay:
    """One inpatient stay and everything recorded about it."""

    hospital: Hospital
    department: Department
    person: Person
    admitted: datetime
    discharged: datetime | None
    disposition: str | None
    sequence: int
    assessments: list[Assessment] = field(default_factory=list)
    bleeding: list[Bleeding] = field(default_factory=list)
    mech_checks: list[MechCheck] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    label: str = ""  # the edge case this stay was built for, if any

    @property
    def case_id(self) -> str:
        """The case recordId."""
        return f"C{self.sequence:07d}"

    def end_of_record(self, cutoff: datetime) -> datetime:
        """Latest moment anything of the stay can be recorded at."""
        return self.discharged or cutoff


# -- rendering


# ICD-10 codes of a VTE by type (1 DVT, 2 PTE, 3 both: coded as the PTE), in the shapes hospitals
# send: WHO 4-character, national clinical edition 6-character, and national extension codes
# (vte-domain.md §6.1). A stay takes one by its sequence number, so every shape occurs.
VTE_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "1": (
        ("I80.200", "下肢深静脉血栓形成"),
        ("I80.200x003", "下肢深静脉血栓形成"),
        ("I80.2", "下肢深静脉血栓形成"),
        ("I80.100", "股静脉血栓形成"),
        ("I82.800", "其他特指静脉栓塞和血栓形成"),
    ),
    "2": (
        ("I26.900", "肺栓塞"),
        ("I26.0", "肺栓塞伴急性肺源性心脏病"),
        ("I26.900x001", "肺栓塞"),
        ("I26.000", "肺栓塞伴急性肺源性心脏病"),
        ("I26.9", "肺栓塞"),
    ),
}
VTE_CODES["3"] = VTE_CODES["2"]
# A VTE event record carries the same codes as the front page.
EVENT_CODES = VTE_CODES
VTE_SITES = {"1": "03", "2": "08", "3": "07"}
VTE_STUDIES = {"1": "1", "2": "3", "3": "3"}
DRUGS = (
    ("01", "依诺肝素钠注射液", 40, "mg", "401"),
    ("02", "那屈肝素钙注射液", 2850, "AxaIU", "401"),
    ("06", "利伐沙班片", 10, "mg", "1"),
    ("04", "肝素钠注射液", 5000, "U", "401"),
)


def organization_record(hospital: Hospital) -> dict[str, Any]:
    """The hospital's registration record."""
    return {
        "recordId": hospital.org_code,
        "recordVersion": 1,
        "orgCode": hospital.org_code,
        "orgName": hospital.name,
        "hospitalGrade": hospital.grade,
        "hasRiskAssessment": True,
        "hasBleedingAssessment": True,
        "hasMechContraindicationAssessment": True,
        "hasWellsAssessment": True,
        "hasIndicatorStatistics": True,
    }


def stay_records(stay: Stay) -> dict[str, list[dict[str, Any]]]:
    """Native records of one stay, by record type."""
    org = stay.hospital.org_code
    case: dict[str, Any] = {
        "recordId": stay.case_id,
        "recordVersion": 1,
        "orgCode": org,
        "patientId": stay.person.local_ids[org],
        "idType": "01",
        "idNumber": stay.person.id_number,
        "patientName": stay.person.name,
        "sex": stay.person.sex,
        "birthDate": stay.person.birth.isoformat(),
        "inpatientNo": f"{stay.sequence:010d}",
        "admissionDateTime": stamp(stay.admitted),
        "admissionDeptCode": stay.department.code,
        "admissionDeptName": stay.department.name,
    }
    if stay.discharged is not None:
        case["dischargeDateTime"] = stamp(stay.discharged)
        case["dischargeDeptCode"] = stay.department.code
        case["dischargeDeptName"] = stay.department.name
        case["dischargeDisposition"] = stay.disposition or "1"
    if stay.diagnoses:
        case["diagnoses"] = [
            {
                "diagnosisType": "1" if d.principal else "2",
                "icd10Code": d.code,
                "diagnosisName": d.name,
                "admissionCondition": d.present_on_admission,
            }
            for d in stay.diagnoses
        ]
    if stay.operations:
        case["operations"] = [
            {
                "operationCode": o.code,
                "operationName": o.name,
                "operationStart": stamp(o.start),
                "operationEnd": stamp(o.end),
            }
            for o in stay.operations
        ]
    out: dict[str, list[dict[str, Any]]] = {"case": [case]}
    out["vte-risk"] = [
        {
            "recordId": f"{stay.case_id}-R{i}",
            "recordVersion": 1,
            "caseRecordId": stay.case_id,
            "assessmentTool": a.tool,
            "timingPoint": a.timing,
            "assessmentDateTime": stamp(a.at),
            "totalScore": a.score,
            "riskLevel": a.level,
        }
        for i, a in enumerate(stay.assessments, 1)
    ]
    out["bleeding-risk"] = [
        {
            "recordId": f"{stay.case_id}-B{i}",
            "recordVersion": 1,
            "caseRecordId": stay.case_id,
            "assessmentTool": b.tool,
            "assessmentDateTime": stamp(b.at),
            "bleedingRiskLevel": b.level,
        }
        for i, b in enumerate(stay.bleeding, 1)
    ]
    out["mech-contraindication"] = [
        _mech_record(stay, i, m) for i, m in enumerate(stay.mech_checks, 1)
    ]
    out["prophylaxis"] = [_measure_record(stay, i, m) for i, m in enumerate(stay.measures, 1)]
    out["vte-event"] = [_event_record(stay, i, e) for i, e in enumerate(stay.events, 1)]
    return out


def _mech_record(stay: Stay, index: int, check: MechCheck) -> dict[str, Any]:
    record: dict[str, Any] = {
        "recordId": f"{stay.case_id}-M{index}",
        "recordVersion": 1,
        "caseRecordId": stay.case_id,
        "assessmentDateTime": stamp(check.at),
        "contraindicated": check.contraindicated,
    }
    if check.contraindicated:
        record["reasons"] = [{"reasonCode": "03"}]
    return record


def _measure_record(stay: Stay, index: int, measure: Measure) -> dict[str, Any]:
    record: dict[str, Any] = {
        "recordId": f"{stay.case_id}-P{index}",
        "recordVersion": 1,
        "caseRecordId": stay.case_id,
        "category": measure.category,
        "orderDateTime": stamp(measure.ordered),
        "status": measure.status,
    }
    if measure.started is not None:
        record["startDateTime"] = stamp(measure.started)
    if measure.ended is not None:
        record["endDateTime"] = stamp(measure.ended)
    if measure.category == "1":
        record["basicMeasure"] = "1"
    elif measure.category == "2":
        record["deviceCode"] = "2"
    else:
        code, name, dose, unit, route = DRUGS[stay.sequence % len(DRUGS)]
        record.update(
            {
                "drugCode": code,
                "drugName": name,
                "dose": dose,
                "doseUnit": unit,
                "route": route,
                "frequency": "QD",
            }
        )
    return record


def vte_code(vte_type: str, sequence: int) -> tuple[str, str]:
    """The (code, name) a stay with this sequence number uses for a VTE of this type."""
    choices = VTE_CODES[vte_type]
    return choices[sequence % len(choices)]


def _event_record(stay: Stay, index: int, event: Event) -> dict[str, Any]:
    code, name = vte_code(event.vte_type, stay.sequence + index)
    return {
        "recordId": f"{stay.case_id}-E{index}",
        "recordVersion": 1,
        "caseRecordId": stay.case_id,
        "vteType": event.vte_type,
        "icd10Code": code,
        "diagnosisName": name,
        "site": VTE_SITES[event.vte_type],
        "diagnosisDateTime": stamp(event.diagnosed),
        "confirmingStudy": VTE_STUDIES[event.vte_type],
        "admissionCondition": event.present_on_admission,
        "vteRelatedDeath": event.related_death,
    }


def hours(value: float) -> timedelta:
    """A duration in hours, to the second (native date-times carry whole seconds)."""
    return timedelta(seconds=round(value * 3600))
