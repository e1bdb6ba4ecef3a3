"""A synthetic region, deterministic from a seed: hospitals, people, stays and their native records.

``generate(RegionSpec(seed=7, hospitals=3, encounters=240))`` builds the edge cases of
facade.synth.scenarios first (24 h and 90-day boundaries, cross-hospital readmissions, deaths,
present-on-admission VTE, period and month boundaries), then fills the rest with random care
episodes: an index stay, sometimes a transfer or readmission (often to another hospital), and
sometimes a VTE after discharge — reported by the discharging hospital itself or by the hospital
the patient is readmitted to.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from facade.indicators.periods import Period, parse_period
from facade.synth import scenarios
from facade.synth.clinical import Plan, fill
from facade.synth.identity import encode_base31, resident_id, uscc
from facade.synth.records import (
    RECORD_TYPES,
    Department,
    Event,
    Hospital,
    Person,
    Stay,
    hours,
    organization_record,
    stay_records,
)

REGION_TZ_OFFSET = timedelta(hours=8)
DEPARTMENTS = (
    Department("0301", "骨科", True, "1"),
    Department("0302", "普通外科", True, "1"),
    Department("0101", "心血管内科", False, "2"),
    Department("0102", "呼吸内科", False, "2"),
    Department("0501", "重症医学科", False, "1"),
    Department("0103", "肿瘤科", False, "2"),
    Department("0303", "神经外科", True, "1"),
    Department("0401", "妇产科", True, "4"),
)
GRADES = ("31", "32", "21", "31", "22")


@dataclass(frozen=True)
class RegionSpec:
    """What to generate. ``run`` keeps org codes and identity numbers apart between runs."""

    seed: int
    hospitals: int = 3
    encounters: int = 240
    period: str = "2026-Q1"
    run: str = ""


@dataclass
class Region:
    """The generated region: hospitals and every stay, each renderable as native records."""

    spec: RegionSpec
    period: Period
    hospitals: list[Hospital]
    stays: list[Stay]
    cutoff: datetime
    people: list[Person] = field(default_factory=list)

    @property
    def org_codes(self) -> list[str]:
        """Institution codes of the region's hospitals."""
        return [h.org_code for h in self.hospitals]

    def records(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Native records per hospital and record type, in sending order."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = {
            h.org_code: {kind: [] for kind in RECORD_TYPES} for h in self.hospitals
        }
        for hospital in self.hospitals:
            out[hospital.org_code]["organization"].append(organization_record(hospital))
        for stay in self.stays:
            for kind, items in stay_records(stay).items():
                out[stay.hospital.org_code][kind].extend(items)
        return out

    def resource_estimate(self) -> int:
        """Roughly how many FHIR resources the records map to (for load planning)."""
        total = 0
        for stay in self.stays:
            total += 2 + len(stay.diagnoses) + len(stay.operations) + len(stay.assessments)
            total += (
                len(stay.bleeding) + len(stay.mech_checks) + len(stay.measures) + len(stay.events)
            )
        return total


class Builder:
    """Mutable state of one generation run; scenarios and random episodes both use it."""

    def __init__(self, spec: RegionSpec) -> None:
        if spec.hospitals < 1:
            raise ValueError("a region needs at least one hospital")
        self.spec = spec
        self.rng = random.Random(f"vte-synth:{spec.seed}:{spec.run}")  # noqa: S311 - synthetic data
        # Everything below is naive local time, as hospitals send it; the offset only names the zone.
        period = parse_period(spec.period, timezone(REGION_TZ_OFFSET))
        self.period = period
        self.start = period.start.replace(tzinfo=None)
        self.end = period.end.replace(tzinfo=None)
        self.cutoff = self.end + timedelta(days=150)
        digest = hashlib.sha256(f"{spec.seed}:{spec.run}".encode()).digest()
        self.tag = int.from_bytes(digest[:6], "big")
        self.hospitals = [self._hospital(i) for i in range(spec.hospitals)]
        self.people: list[Person] = []
        self._numbers: set[str] = set()
        self.stays: list[Stay] = []
        self._person_seq = 0
        self._local_seq = 0

    # -- building blocks

    def _hospital(self, index: int) -> Hospital:
        body = encode_base31(self.tag, 7) + encode_base31(index, 2)
        code = uscc("12330100", body)
        picks = [d for d in DEPARTMENTS if self.rng.random() < 0.8] or list(DEPARTMENTS[:3])
        quality = 0.55 + 0.4 * self.rng.random()
        return Hospital(
            index,
            code,
            f"合成区域第{index + 1}医院(synthetic)",
            GRADES[index % len(GRADES)],
            picks,
            quality,
        )

    def person(self, *, age: int | None = None) -> Person:
        """A new resident with a valid, run-unique identity number."""
        self._person_seq += 1
        years = age if age is not None else self.rng.randint(18, 95)
        birth = date(self.start.year - years, self.rng.randint(1, 12), self.rng.randint(1, 28))
        male = self.rng.random() < 0.5
        # The order code holds 500 people per sex, area and birth date: vary the area with the run
        # and the sequence, and step past the rare collision.
        area = f"33{self.tag % 90 + 10:02d}{self._person_seq // 500 % 100:02d}"
        number = resident_id(area, birth, self._person_seq, male=male)
        while number in self._numbers:
            birth += timedelta(days=1)
            number = resident_id(area, birth, self._person_seq, male=male)
        self._numbers.add(number)
        person = Person(number, "1" if male else "2", birth)
        self.people.append(person)
        return person

    def department(
        self, hospital: Hospital, *, surgical: bool | None = None, tool: str | None = None
    ) -> Department:
        """A department of the hospital (of the requested kind when one exists)."""
        choices = [
            d
            for d in hospital.departments
            if (surgical is None or d.surgical == surgical) and (tool is None or d.tool == tool)
        ]
        if not choices:
            choices = [
                d
                for d in DEPARTMENTS
                if (surgical is None or d.surgical == surgical) and (tool is None or d.tool == tool)
            ]
            hospital.departments.append(choices[0])
            return choices[0]
        return self.rng.choice(choices)

    def stay(
        self,
        hospital: Hospital,
        person: Person,
        admitted: datetime,
        discharged: datetime | None,
        *,
        department: Department | None = None,
        disposition: str | None = None,
        events: list[Event] | None = None,
        plan: Plan | None = None,
        label: str = "",
    ) -> Stay:
        """Record one stay (with clinical content) and return it."""
        self._local_seq += 1
        person.local_id(hospital.org_code, self._local_seq)
        stay = Stay(
            hospital=hospital,
            department=department or self.department(hospital),
            person=person,
            admitted=admitted,
            discharged=discharged,
            disposition=(disposition or "1") if discharged is not None else None,
            sequence=len(self.stays) + 1,
            events=list(events or []),
            label=label,
        )
        fill(stay, self.rng, self.cutoff, plan)
        self.stays.append(stay)
        if disposition == "5" and discharged is not None:
            person.died_at = discharged
        return stay

    def other_hospital(self, hospital: Hospital) -> Hospital:
        """A different hospital of the region (the same one if there is only one)."""
        others = [h for h in self.hospitals if h is not hospital]
        return self.rng.choice(others) if others else hospital

    # -- random episodes

    def length_of_stay(self) -> timedelta:
        """Log-normal, median about a week, 6 hours to 45 days."""
        days = min(45.0, max(0.25, self.rng.lognormvariate(1.9, 0.6)))
        return timedelta(seconds=round(days * 86400))

    def episode(self) -> None:
        """One person's index stay and what follows it."""
        rng = self.rng
        hospital = self.hospitals[
            min(int(rng.random() ** 1.3 * len(self.hospitals)), len(self.hospitals) - 1)
        ]
        person = self.person()
        span = (self.end - self.start).total_seconds() + 25 * 86400
        admitted = self.start - timedelta(days=25) + timedelta(seconds=int(rng.random() * span))
        admitted = admitted.replace(second=0)
        ends = (admitted + self.length_of_stay()).replace(second=0, microsecond=0)
        # half of the stays that end after the period are still going on at the data cut-off
        discharged: datetime | None = None if ends >= self.end and rng.random() < 0.5 else ends
        roll = rng.random()
        disposition = "5" if roll < 0.02 else "2" if roll < 0.06 else "1"
        plan = Plan()
        events: list[Event] = []
        if disposition == "5" and discharged is not None and rng.random() < 0.35:
            length_h = (discharged - admitted).total_seconds() / 3600
            if length_h > 30:
                events.append(Event(discharged - hours(rng.uniform(1, 12)), "2", "4", True))
                plan.in_hospital_event = False
        if rng.random() < 0.015:
            events.append(
                Event(admitted + hours(rng.uniform(0.5, 8)), rng.choice("123"), "1", False)
            )
        index = self.stay(
            hospital,
            person,
            admitted,
            discharged,
            disposition=disposition,
            events=events,
            plan=plan,
        )
        if discharged is None or disposition == "5" or len(self.stays) >= self.spec.encounters:
            return
        if disposition == "2":
            self.readmit(
                index, self.other_hospital(hospital), discharged + hours(rng.uniform(0.5, 4))
            )
            return
        if rng.random() < 0.035:
            self.post_discharge_event(index, rng.randint(1, 120))
        elif rng.random() < 0.07:
            target = self.other_hospital(hospital) if rng.random() < 0.6 else hospital
            self.readmit(
                index, target, discharged + timedelta(seconds=rng.randint(86400, 60 * 86400))
            )

    def readmit(
        self,
        prior: Stay,
        hospital: Hospital,
        admitted: datetime,
        *,
        events: list[Event] | None = None,
        disposition: str = "1",
        label: str = "",
    ) -> Stay | None:
        """A later stay of the same person; None when the person is dead or the region is full."""
        if prior.person.died_at is not None or len(self.stays) >= self.spec.encounters:
            return None
        discharged: datetime | None = admitted + self.length_of_stay()
        if discharged is not None and discharged > self.cutoff:
            discharged = None
        return self.stay(
            hospital,
            prior.person,
            admitted,
            discharged,
            disposition=disposition,
            events=events,
            label=label,
        )

    def post_discharge_event(
        self,
        index: Stay,
        day: int,
        *,
        how: str | None = None,
        late_in_day: bool = False,
        label: str = "",
    ) -> None:
        """A VTE ``day`` calendar days after the index discharge, reported one of three ways."""
        rng = self.rng
        if index.discharged is None:
            raise ValueError("a post-discharge event needs a discharged index stay")
        when = datetime.combine(index.discharged.date() + timedelta(days=day), datetime.min.time())
        when += hours(22.5 if late_in_day else rng.uniform(8, 18))
        if when <= index.discharged:
            when = index.discharged + timedelta(hours=2)
        vte_type = rng.choice("1123")
        death = vte_type != "1" and rng.random() < 0.12
        how = how or rng.choice(["elsewhere", "elsewhere", "same", "index"])
        if how == "index":
            index.events.append(Event(when, vte_type, "1", death))
            if death:
                index.person.died_at = when
            return
        hospital = self.other_hospital(index.hospital) if how == "elsewhere" else index.hospital
        admitted = when - hours(rng.uniform(1, 6))
        if admitted <= index.discharged:
            admitted = index.discharged + timedelta(minutes=30)
        event = Event(when, vte_type, "1", death)
        self.readmit(
            index,
            hospital,
            admitted,
            events=[event],
            disposition="5" if death else "1",
            label=label,
        )


def generate(spec: RegionSpec) -> Region:
    """Build a region: edge cases first, then random episodes until ``spec.encounters`` stays exist."""
    builder = Builder(spec)
    scenarios.add_all(builder)
    while len(builder.stays) < spec.encounters:
        builder.episode()
    return Region(
        spec, builder.period, builder.hospitals, builder.stays, builder.cutoff, builder.people
    )
