"""Hand-built native records for small regions whose indicator values are computed by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from facade.synth.identity import resident_id, uscc

ORG_A = uscc("12330100", "HANDAAA01")
ORG_B = uscc("12330100", "HANDBBB02")
ORG_C = uscc("12330100", "HANDCCC03")

Region = dict[str, dict[str, list[dict[str, Any]]]]


def person(n: int) -> str:
    """A valid resident identity number for person ``n``."""
    return resident_id("330102", date(1950, 1, 1 + n % 28), n, male=n % 2 == 0)


def region(*records: tuple[str, str, dict[str, Any]]) -> Region:
    """Group (org, record type, record) triples as the generator does."""
    out: Region = {}
    for org, kind, record in records:
        out.setdefault(org, {}).setdefault(kind, []).append(record)
    return out


def case(
    org: str,
    rid: str,
    who: int,
    admitted: str,
    discharged: str | None,
    *,
    dept: str = "0301",
    dx: tuple[tuple[str, str], ...] = (),
    operated: bool = False,
    disposition: str = "1",
) -> tuple[str, str, dict[str, Any]]:
    record: dict[str, Any] = {
        "recordId": rid,
        "recordVersion": 1,
        "orgCode": org,
        "patientId": f"P{who}",
        "idType": "01",
        "idNumber": person(who),
        "sex": "1" if who % 2 == 0 else "2",
        "birthDate": "1950-01-01",
        "admissionDateTime": admitted,
        "admissionDeptCode": dept,
        "admissionDeptName": "科室",
    }
    if discharged:
        record.update(
            {
                "dischargeDateTime": discharged,
                "dischargeDeptCode": dept,
                "dischargeDeptName": "科室",
                "dischargeDisposition": disposition,
            }
        )
    if dx:
        record["diagnoses"] = [
            {"diagnosisType": "2", "icd10Code": code, "admissionCondition": poa} for code, poa in dx
        ]
    if operated:
        record["operations"] = [
            {"operationCode": "81.5200", "operationStart": admitted, "operationEnd": admitted}
        ]
    return org, "case", record


def risk(
    org: str, case_id: str, at: str, score: float, *, tool: str = "1", level: str = "4", n: int = 1
) -> tuple[str, str, dict[str, Any]]:
    return (
        org,
        "vte-risk",
        {
            "recordId": f"{case_id}-R{n}",
            "recordVersion": 1,
            "caseRecordId": case_id,
            "assessmentTool": tool,
            "timingPoint": "1",
            "assessmentDateTime": at,
            "totalScore": score,
            "riskLevel": level,
        },
    )


def bleed(
    org: str, case_id: str, at: str, *, high: bool = False
) -> tuple[str, str, dict[str, Any]]:
    return (
        org,
        "bleeding-risk",
        {
            "recordId": f"{case_id}-B",
            "recordVersion": 1,
            "caseRecordId": case_id,
            "assessmentTool": "2",
            "assessmentDateTime": at,
            "bleedingRiskLevel": "2" if high else "1",
        },
    )


def mech(
    org: str, case_id: str, at: str, *, contraindicated: bool
) -> tuple[str, str, dict[str, Any]]:
    record: dict[str, Any] = {
        "recordId": f"{case_id}-M",
        "recordVersion": 1,
        "caseRecordId": case_id,
        "assessmentDateTime": at,
        "contraindicated": contraindicated,
    }
    if contraindicated:
        record["reasons"] = [{"reasonCode": "03"}]
    return org, "mech-contraindication", record


def measure(
    org: str, case_id: str, category: str, start: str | None, *, status: str = "2", n: int = 1
) -> tuple[str, str, dict[str, Any]]:
    record: dict[str, Any] = {
        "recordId": f"{case_id}-P{n}",
        "recordVersion": 1,
        "caseRecordId": case_id,
        "category": category,
        "orderDateTime": start or "2026-01-01 00:00:00",
        "status": status,
    }
    if start:
        record["startDateTime"] = start
    if category == "1":
        record["basicMeasure"] = "1"
    elif category == "2":
        record["deviceCode"] = "2"
    else:
        record.update({"drugCode": "01", "dose": 40, "doseUnit": "mg", "route": "401"})
    return org, "prophylaxis", record


def event(
    org: str,
    case_id: str,
    at: str,
    *,
    poa: str,
    death: bool = False,
    n: int = 1,
    vte_type: str = "1",
) -> tuple[str, str, dict[str, Any]]:
    return (
        org,
        "vte-event",
        {
            "recordId": f"{case_id}-E{n}",
            "recordVersion": 1,
            "caseRecordId": case_id,
            "vteType": vte_type,
            "icd10Code": "I80.200" if vte_type == "1" else "I26.900x001",
            "diagnosisDateTime": at,
            "confirmingStudy": "1",
            "admissionCondition": poa,
            "vteRelatedDeath": death,
        },
    )
