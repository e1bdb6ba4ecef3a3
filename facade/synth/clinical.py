"""Clinical content of one synthetic stay: assessments, prophylaxis, operations, diagnoses, in-stay events.

The numbers are plausible, not calibrated: assessment rates of 75–97 %, about half of the stays at
medium/high risk, 55–90 % appropriate prophylaxis, 1–4 % in-hospital VTE. What matters for the
tests is that every rule of the indicators is exercised both ways.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from facade.synth.records import (
    Assessment,
    Bleeding,
    Diagnosis,
    Event,
    Measure,
    MechCheck,
    Operation,
    Stay,
    hours,
    vte_code,
)

# The generator's own idea of the bands (clinicians act on what they see); the indicator rules
# may use other cut-offs, and the ground truth follows the rules, not these.
_CAPRINI_LEVEL = ((9, "5"), (5, "4"), (3, "3"), (1, "2"), (0, "1"))
_PADUA_LEVEL = ((4, "4"), (0, "2"))
PRINCIPAL = {
    "0301": ("S72.000", "股骨颈骨折"),
    "0302": ("K80.200", "胆囊结石"),
    "0303": ("I61.900", "脑出血"),
    "0101": ("I21.900", "急性心肌梗死"),
    "0102": ("J18.900", "肺炎"),
    "0103": ("C34.900", "肺恶性肿瘤"),
    "0501": ("A41.900", "脓毒症"),
    "0401": ("O82.000", "剖宫产分娩"),
}
OPERATIONS = {
    "0301": ("81.5200", "部分髋关节置换"),
    "0302": ("51.2300", "腹腔镜下胆囊切除术"),
    "0303": ("01.2401", "开颅血肿清除术"),
    "0401": ("74.1x01", "子宫下段剖宫产术"),
}
COMORBIDITIES = (
    ("I10.x00", "高血压"),
    ("E11.900", "2型糖尿病"),
    ("N18.900", "慢性肾脏病"),
    ("J44.900", "慢性阻塞性肺疾病"),
)


@dataclass
class Plan:
    """The knobs a scenario may fix; anything left None is drawn at random."""

    assessed: bool | None = None
    first_delay_hours: float | None = None
    band: str | None = None  # "low" / "medium" / "high" as the clinicians see it
    bleeding_high: bool | None = None
    bleeding_assessed: bool | None = None
    mech_contraindicated: bool | None = None
    prophylaxis: str | None = (
        None  # "appropriate", "none", "basic", "late", "not-done", "drug", "mechanical"
    )
    start_delay_hours: float | None = (
        None  # of the required measure, after the reference assessment
    )
    in_hospital_event: bool | None = None
    operate: bool | None = None


def level_of(tool: str, score: float) -> str:
    """The risk level a hospital reports for a score (its own table)."""
    table = _CAPRINI_LEVEL if tool == "1" else _PADUA_LEVEL
    if tool not in ("1", "2"):
        return "2" if score < 2 else ("3" if score < 4 else "4")
    return next(level for floor, level in table if score >= floor)


def _score_for(rng: random.Random, tool: str, band: str) -> float:
    if tool == "1":
        low, high = {"very-low": (0, 0), "low": (1, 2), "medium": (3, 4), "high": (5, 12)}[band]
    elif tool == "2":
        low, high = {"very-low": (0, 3), "low": (0, 3), "medium": (4, 5), "high": (4, 9)}[band]
    else:
        low, high = {"very-low": (0, 1), "low": (0, 1), "medium": (2, 3), "high": (4, 5)}[band]
    return float(rng.randint(low, high))


def _draw_band(rng: random.Random, stay: Stay) -> str:
    roll = rng.random()
    if stay.department.tool == "2":
        return "high" if roll < 0.4 else "low"
    if stay.department.surgical:
        return (
            "very-low"
            if roll < 0.05
            else "low"
            if roll < 0.25
            else "medium"
            if roll < 0.55
            else "high"
        )
    return "low" if roll < 0.3 else "medium" if roll < 0.6 else "high"


def _within(stay: Stay, moment: datetime, cutoff: datetime) -> datetime:
    """Clamp a moment into the stay."""
    end = stay.end_of_record(cutoff)
    return max(stay.admitted, min(moment, end))


def fill(stay: Stay, rng: random.Random, cutoff: datetime, plan: Plan | None = None) -> None:
    """Add assessments, prophylaxis, operations, front-page diagnoses and in-stay events."""
    plan = plan or Plan()
    quality = stay.hospital.quality
    end = stay.end_of_record(cutoff)
    length = (end - stay.admitted).total_seconds() / 3600
    _operations(stay, rng, plan, length)
    band = plan.band or _draw_band(rng, stay)
    assessed = plan.assessed if plan.assessed is not None else rng.random() < 0.72 + 0.25 * quality
    reference: datetime | None = None
    if assessed:
        reference = _assessments(stay, rng, plan, band, length, cutoff)
    bleeding_high = plan.bleeding_high if plan.bleeding_high is not None else rng.random() < 0.15
    bleeding_assessed = plan.bleeding_assessed
    if bleeding_assessed is None:
        bleeding_assessed = rng.random() < ((0.6 + 0.35 * quality) if assessed else 0.2)
    if bleeding_assessed:
        at = _within(stay, (reference or stay.admitted) + hours(rng.uniform(0, 3)), cutoff)
        tool = "2" if stay.department.surgical else "1"
        stay.bleeding.append(Bleeding(at, tool, "2" if bleeding_high else "1"))
    contraindicated = plan.mech_contraindicated
    if contraindicated is None:
        contraindicated = rng.random() < 0.08
    if contraindicated or rng.random() < 0.45:
        at = _within(stay, (reference or stay.admitted) + hours(rng.uniform(0, 4)), cutoff)
        stay.mech_checks.append(MechCheck(at, contraindicated))
    _prophylaxis(
        stay,
        rng,
        plan,
        band if assessed else "unassessed",
        bleeding_high,
        contraindicated,
        reference,
        cutoff,
    )
    _in_stay_event(stay, rng, plan, band, length)
    _diagnoses(stay, rng)


def _operations(stay: Stay, rng: random.Random, plan: Plan, length: float) -> None:
    operate = (
        plan.operate
        if plan.operate is not None
        else stay.department.surgical and rng.random() < 0.85
    )
    if not operate or stay.department.code not in OPERATIONS or length < 8:
        return
    code, name = OPERATIONS[stay.department.code]
    start = stay.admitted + hours(rng.uniform(2, min(length - 5, 72)))
    stay.operations.append(Operation(code, name, start, start + hours(rng.uniform(0.5, 4))))


def _assessments(
    stay: Stay, rng: random.Random, plan: Plan, band: str, length: float, cutoff: datetime
) -> datetime:
    """Add the VTE risk assessments; return when the first medium/high one (else the first) was done."""
    tool = stay.department.tool
    delay = plan.first_delay_hours
    if delay is None:
        roll = rng.random()
        good = 0.55 + 0.4 * stay.hospital.quality
        delay = rng.uniform(0.2, 23.5) if roll < good else rng.uniform(24.5, 80)
    first_at = _within(stay, stay.admitted + hours(delay), cutoff)
    # a scenario that fixes the band gets it on the first assessment; otherwise 15 % start lower
    score = _score_for(rng, tool, band if plan.band or rng.random() < 0.85 else "low")
    stay.assessments.append(Assessment(first_at, tool, score, level_of(tool, score), "1"))
    if rng.random() < 0.35 and length > delay + 6:
        later = _within(
            stay, first_at + hours(rng.uniform(4, max(5.0, length - delay - 1))), cutoff
        )
        rescore = _score_for(rng, tool, band)
        stay.assessments.append(
            Assessment(
                later, tool, rescore, level_of(tool, rescore), "3" if stay.operations else "6"
            )
        )
    high = [a.at for a in stay.assessments if a.level in ("3", "4", "5")]
    return min(high) if high else first_at


def _prophylaxis(
    stay: Stay,
    rng: random.Random,
    plan: Plan,
    band: str,
    bleeding_high: bool,
    contraindicated: bool,
    reference: datetime | None,
    cutoff: datetime,
) -> None:
    choice = plan.prophylaxis
    base = reference or stay.admitted
    if choice is None:
        if band in ("medium", "high"):
            ok = rng.random() < 0.5 + 0.4 * stay.hospital.quality
            choice = (
                "appropriate"
                if ok
                else rng.choice(["none", "basic", "late", "not-done", "drug", "mechanical"])
            )
        elif band == "unassessed":
            choice = rng.choice(["none", "none", "basic", "drug"])
        else:
            choice = rng.choice(["none", "none", "none", "basic", "basic", "mechanical"])
    delay = plan.start_delay_hours if plan.start_delay_hours is not None else rng.uniform(0.5, 22)
    if choice == "appropriate":
        if bleeding_high or (
            stay.department.tool == "1" and band == "medium" and rng.random() < 0.3
        ):
            if not contraindicated:
                _add(stay, "2", base + hours(delay), cutoff)
        else:
            _add(stay, "3", base + hours(delay), cutoff)
            if rng.random() < 0.25 and not contraindicated:
                _add(stay, "2", base + hours(delay + rng.uniform(0, 6)), cutoff)
    elif choice == "late":
        _add(stay, "2" if bleeding_high else "3", base + hours(rng.uniform(25, 72)), cutoff)
    elif choice == "not-done":
        _add(stay, "3", base + hours(delay), cutoff, status="4")
    elif choice == "drug":
        _add(stay, "3", base + hours(delay), cutoff)
    elif choice == "mechanical":
        _add(stay, "2", base + hours(delay), cutoff)
    if choice == "basic" or rng.random() < 0.35:
        _add(stay, "1", base + hours(rng.uniform(0, 12)), cutoff)


def _add(
    stay: Stay, category: str, start: datetime, cutoff: datetime, *, status: str | None = None
) -> None:
    """Add one order; one that would start after the stay becomes 'not done'."""
    end_of_stay = stay.end_of_record(cutoff)
    ordered = max(stay.admitted, start - timedelta(minutes=90))
    if ordered > end_of_stay:
        ordered = end_of_stay
    if status == "4" or start > end_of_stay:
        stay.measures.append(Measure(category, ordered, None, None, "4"))
        return
    if stay.discharged is None:
        stay.measures.append(Measure(category, ordered, start, None, "1"))
        return
    finish = min(stay.discharged, start + timedelta(days=7))
    stay.measures.append(
        Measure(category, ordered, start, finish, "2" if finish < stay.discharged else "3")
    )


def _in_stay_event(stay: Stay, rng: random.Random, plan: Plan, band: str, length: float) -> None:
    wanted = plan.in_hospital_event
    if wanted is None:
        risk = {"very-low": 0.004, "low": 0.01, "medium": 0.03, "high": 0.05}.get(band, 0.02)
        wanted = rng.random() < risk
    if not wanted or length < 30:
        return
    at = stay.admitted + hours(rng.uniform(25, length - 2))
    vte_type = rng.choice(["1", "1", "1", "2", "3"])
    death = vte_type != "1" and stay.disposition == "5"
    stay.events.append(Event(at, vte_type, "4", death))


def _diagnoses(stay: Stay, rng: random.Random) -> None:
    if stay.discharged is None:
        return
    code, name = PRINCIPAL[stay.department.code]
    stay.diagnoses.append(Diagnosis(code, name, True, "1"))
    for extra in rng.sample(COMORBIDITIES, rng.randint(0, 2)):
        stay.diagnoses.append(Diagnosis(extra[0], extra[1], False, "1"))
    for index, event in enumerate(stay.events, start=1):
        if event.diagnosed > stay.discharged:
            continue  # after the stay: not on its front page
        codes = [vte_code(event.vte_type, stay.sequence + index)]
        if event.vte_type == "3":
            codes.append(vte_code("1", stay.sequence + index))
        for code, name in codes:
            stay.diagnoses.append(Diagnosis(code, name, False, event.present_on_admission))
