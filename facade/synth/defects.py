"""Known data-quality defects for a synthetic region, and the upload schedule that carries them.

``with_defects(region, rules)`` keeps the region's records as they are and adds, for every
data-quality check, records that break it — assigned to the hospitals in turn — plus a hospital
of steady daily volume with gap and drop days. Every record gets a simulated receipt time: a
hospital uploads every ``UPLOAD_EVERY_DAYS`` days at 02:00 (so on time), except where a defect
says otherwise (held back, or sent before its correction). ``injected`` counts the defects put in
per check; ``expected`` says how the gateway must answer each injected record (which code, which
field). The exact expected counters come from ``facade.synth.dq_truth``, computed from the
submissions alone.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from facade.native.client import Reply, VteXClient
from facade.quality.models import (
    AfterDeathRecords,
    AfterDeathStays,
    AfterFirstAssessment,
    AgeRange,
    CodeTableValues,
    Corrections,
    DailyDrop,
    DailyGap,
    Duplicates,
    Lag,
    Orphans,
    RecommendedFields,
    RefusedCode,
    RequiredFields,
    ScoreBands,
    WithinStay,
)
from facade.quality.rules import Check, RuleSet
from facade.synth.generator import DEPARTMENTS, Region
from facade.synth.identity import encode_base31, resident_id, uscc
from facade.synth.records import (
    RECORD_TYPES,
    Assessment,
    Bleeding,
    Diagnosis,
    Event,
    Hospital,
    Measure,
    MechCheck,
    Operation,
    Person,
    Stay,
    hours,
    organization_record,
    stamp,
    stay_records,
)

UPLOAD_EVERY_DAYS = 5
LATE_DAYS = 20
VOLUME_PER_DAY = 5
SEND_ORDER = (*RECORD_TYPES[:5], "wells", *RECORD_TYPES[5:])
BAD_CODE = "ZZ"


@dataclass(frozen=True)
class Expected:
    """How the gateway must answer one injected record: accepted, or refused with code at path."""

    code: str | None = None  # None: accepted
    path: str = ""  # field path without indexes, "" for the record
    also: tuple[tuple[str, str], ...] = ()  # issues the rules add beside it (code, path)


@dataclass(frozen=True)
class Submission:
    """One upload batch at a simulated moment (epoch milliseconds)."""

    at_ms: int
    org_code: str
    record_type: str
    batch_no: str
    records: tuple[dict[str, Any], ...]


@dataclass
class DefectRegion:
    """The region, its volume hospital, the schedule, and what was injected."""

    region: Region
    hospitals: list[Hospital]
    submissions: list[Submission]
    injected: Counter[str]
    expected: dict[tuple[str, str, str, int], Expected]
    tz: timezone

    @property
    def end_ms(self) -> int:
        """A moment after the last upload (reports are asked for then)."""
        return max(s.at_ms for s in self.submissions) + 3_600_000

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``vte-facade synth --defects`` writes it)."""
        return {
            "hospitals": [h.org_code for h in self.hospitals],
            "injected": dict(sorted(self.injected.items())),
            "submissions": [
                {
                    "atMs": s.at_ms,
                    "orgCode": s.org_code,
                    "recordType": s.record_type,
                    "batchNo": s.batch_no,
                    "records": list(s.records),
                }
                for s in self.submissions
            ],
        }


@dataclass
class _Send:
    org: str
    record_type: str
    record: dict[str, Any]
    at: datetime  # local time it goes out
    expected: Expected | None = None


@dataclass
class _Plan:
    sends: list[_Send] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)


class _Injector:
    """Builds the defect records of one region (deterministic: no randomness is needed)."""

    def __init__(self, region: Region, rules: RuleSet) -> None:
        self.region = region
        self.rules = rules
        self.tz = rules.config.tz
        self.start = region.period.start.replace(tzinfo=None)
        self.end = region.period.end.replace(tzinfo=None)
        self.epoch = datetime.combine(self.start.date() - timedelta(days=40), datetime.min.time())
        self.epoch += timedelta(hours=2)
        self.plan = _Plan()
        self.ready: dict[str, datetime] = {}
        self._sequence = 900_000
        self._record = 0
        self._people = 0
        base = region.hospitals
        self.base = base
        body = base[0].org_code[8:15] + encode_base31(len(base), 2)
        self.volume = Hospital(
            len(base), uscc("12330100", body), "合成区域稳定量医院(synthetic)", "31", [], 0.9
        )
        self.volume.departments.append(DEPARTMENTS[0])

    # -- time

    def slot_after(self, moment: datetime) -> datetime:
        """The first upload moment strictly after ``moment``."""
        steps = int((moment - self.epoch) / timedelta(days=UPLOAD_EVERY_DAYS)) + 1
        return self.epoch + steps * timedelta(days=UPLOAD_EVERY_DAYS)

    def day(self, n: int, hour: float = 9.0) -> datetime:
        """Day ``n`` of the period (0-based, wrapping inside it) at ``hour``."""
        span = max((self.end - self.start).days - 6, 1)
        return self.start + timedelta(days=n % span, hours=hour)

    # -- building blocks

    def person(self, birth: date | None = None) -> Person:
        self._people += 1
        born = birth or date(self.start.year - 40 - self._people % 30, 3, 1 + self._people % 27)
        number = resident_id("339900", born, self._people, male=self._people % 2 == 1)
        return Person(number, "1" if self._people % 2 else "2", born)

    def stay(
        self,
        hospital: Hospital,
        admitted: datetime,
        *,
        days: float = 3,
        disposition: str = "1",
        person: Person | None = None,
        clinical: bool = True,
    ) -> Stay:
        """A fresh, valid stay (ids far from the generator's) with clinical content unless bare."""
        self._sequence += 1
        who = person or self.person()
        who.local_id(hospital.org_code, self._sequence)
        department = next(d for d in DEPARTMENTS if d.surgical and d.tool == "1")
        discharged = admitted + timedelta(days=days)
        stay = Stay(hospital, department, who, admitted, discharged, disposition, self._sequence)
        stay.diagnoses.append(Diagnosis("S72.000", "股骨颈骨折", True, "1"))
        if clinical:
            stay.operations.append(
                Operation("81.5200", "部分髋关节置换", admitted + hours(6), admitted + hours(8))
            )
            stay.assessments.append(Assessment(admitted + hours(3), "1", 4.0, "3", "1"))
            stay.bleeding.append(Bleeding(admitted + hours(4), "2", "1"))
            stay.mech_checks.append(MechCheck(admitted + hours(4), False))
            stay.measures.append(
                Measure("3", admitted + hours(5), admitted + hours(6), discharged - hours(2), "2")
            )
        return stay

    def records(self, stay: Stay) -> dict[str, list[dict[str, Any]]]:
        """The stay's native records, with one Wells assessment when it has clinical content."""
        out = stay_records(stay)
        out["wells"] = []
        if stay.assessments:
            out["wells"].append(self.wells(stay, stay.admitted + hours(5)))
        return out

    def wells(self, stay: Stay, at: datetime, score: float = 3, level: str = "4") -> dict[str, Any]:
        self._record += 1
        return {
            "recordId": f"{stay.case_id}-W{self._record}",
            "recordVersion": 1,
            "caseRecordId": stay.case_id,
            "wellsVariant": "1",
            "assessmentDateTime": stamp(at),
            "score": score,
            "interpretation": level,
        }

    def send_stay(self, stay: Stay, **overrides: Any) -> dict[str, list[dict[str, Any]]]:
        """Schedule every record of a fresh stay on time; return them (for further defects)."""
        rendered = self.records(stay)
        ready = stay.discharged or stay.admitted
        for kind, items in rendered.items():
            for record in items:
                self.send(stay.hospital, kind, record, self.slot_after(ready), **overrides)
        return rendered

    def send(
        self,
        hospital: Hospital,
        kind: str,
        record: dict[str, Any],
        at: datetime,
        *,
        expected: Expected | None = None,
    ) -> None:
        self.plan.sends.append(_Send(hospital.org_code, kind, record, at, expected))

    def new_id(self) -> str:
        self._record += 1
        return f"DQX{self._record:05d}"

    # -- templates: one valid record of each shape, on one clean stay per hospital

    def templates(self, hospital: Hospital) -> dict[str, dict[str, Any]]:
        stay = self.stay(hospital, self.day(hospital.index * 3 + 1))
        stay.events.append(Event(stay.admitted + hours(30), "1", "4", False))
        rendered = self.send_stay(stay)
        self.ready[hospital.org_code] = self.slot_after(_discharged(stay))
        case = rendered["case"][0]
        case["icuStays"] = [
            {
                "icuName": "综合ICU",
                "icuInDateTime": stamp(stay.admitted + hours(9)),
                "icuOutDateTime": stamp(stay.admitted + hours(20)),
            }
        ]
        risk = rendered["vte-risk"][0]
        bleed = rendered["bleeding-risk"][0]
        bleed["timingPoint"] = "1"
        mech = rendered["mech-contraindication"][0]
        mech["timingPoint"] = "1"
        drug = rendered["prophylaxis"][0]
        found = {
            "case": case,
            "organization": organization_record(hospital),
            "vte-risk": risk,
            "vte-risk/items": {**risk, "items": [{"itemName": "年龄41-60岁", "itemPoints": 1}]},
            "vte-risk/other": {
                **risk,
                "assessmentTool": "9",
                "toolName": "本院量表",
                "riskLevel": "3",
            },
            "bleeding-risk": bleed,
            "bleeding-risk/factors": {**bleed, "factors": [{"factorName": "活动性出血"}]},
            "mech-contraindication": mech,
            "mech-contraindication/yes": {
                **mech,
                "contraindicated": True,
                "reasons": [{"reasonCode": "03", "reasonText": "下肢开放性损伤"}],
            },
            "wells": rendered["wells"][0],
            "prophylaxis": drug,
            "prophylaxis/1": _measure(drug, "1", {"basicMeasure": "1"}),
            "prophylaxis/2": _measure(drug, "2", {"deviceCode": "2"}),
            "vte-event": rendered["vte-event"][0],
        }
        return found

    # -- the defects, one kind of check at a time

    def run(self) -> _Plan:
        templates = {h.org_code: self.templates(h) for h in self.base}
        self.base_schedule()
        turn = 0
        for check in self.rules.checks.values():
            hospital = self.base[turn % len(self.base)]
            turn += 1
            self.inject(check, hospital, templates[hospital.org_code], turn)
        self.volume_defects()
        return self.plan

    def inject(
        self, check: Check, hospital: Hospital, templates: dict[str, Any], turn: int
    ) -> None:
        spec = check.spec
        if isinstance(spec, RequiredFields | CodeTableValues):
            self.broken_field(check, hospital, templates, turn)
        elif isinstance(spec, RefusedCode):
            self.refused_code(check, hospital, templates, turn)
        elif isinstance(spec, RecommendedFields):
            self.recommended(check, hospital, turn)
        elif isinstance(spec, WithinStay):
            self.outside_stay(check, hospital, turn)
        elif isinstance(spec, AfterFirstAssessment):
            stay = self.stay(hospital, self.day(turn))
            rendered = self.send_stay(stay)
            measure = _measure(rendered["prophylaxis"][0], "1", {"basicMeasure": "1"})
            measure.update(
                recordId=f"{stay.case_id}-PX",
                orderDateTime=stamp(stay.admitted + hours(0.5)),
                startDateTime=stamp(stay.admitted + hours(1)),
                endDateTime=stamp(stay.admitted + hours(2)),
            )
            self.send(
                hospital, "prophylaxis", measure, self.slot_after(stay.discharged or stay.admitted)
            )
            self.plan.injected[check.id] += 1
        elif isinstance(spec, AgeRange):
            for birth in (
                date(self.start.year - 126, 1, 1),
                self.day(turn).date() + timedelta(days=1),
            ):
                stay = self.stay(
                    hospital, self.day(turn), person=self.person(birth), clinical=False
                )
                self.send_stay(stay)
                self.plan.injected[check.id] += 1
        elif isinstance(spec, ScoreBands):
            stay = self.stay(hospital, self.day(turn))
            rendered = self.send_stay(stay)
            at = stay.admitted + hours(20)
            if spec.record_type == "wells":
                record = self.wells(stay, at, score=5, level="5")
            else:
                record = {**rendered["vte-risk"][0], "recordId": f"{stay.case_id}-RX"}
                record.update(
                    assessmentDateTime=stamp(at), totalScore=8, riskLevel="2", timingPoint="6"
                )
            self.send(hospital, spec.record_type, record, self.slot_after(stay.discharged or at))
            self.plan.injected[check.id] += 1
        elif isinstance(spec, Duplicates):
            self.duplicate(check, hospital, turn)
        elif isinstance(spec, Orphans):
            record = {
                **templates["vte-risk"],
                "recordId": self.new_id(),
                "caseRecordId": "DQ-NEVER-SENT",
            }
            self.refuse(hospital, "vte-risk", record, Expected("3006", "caseRecordId"))
            self.plan.injected[check.id] += 1
            self.plan.injected[f"{self.refused_prefix()}.3006"] += 1
        elif isinstance(spec, AfterDeathRecords):
            stay = self.stay(hospital, self.day(turn), disposition="5", clinical=False)
            self.send_stay(stay)
            after = _discharged(stay) + timedelta(days=1)
            event = stay_records(_with_event(stay, after))["vte-event"][0]
            self.send(hospital, "vte-event", event, self.slot_after(after))
            self.plan.injected[check.id] += 1
        elif isinstance(spec, AfterDeathStays):
            first = self.stay(hospital, self.day(turn), disposition="5", clinical=False)
            self.send_stay(first)
            later = _discharged(first) + timedelta(days=2)
            again = self.stay(hospital, later, person=first.person, clinical=False)
            self.send_stay(again)
            self.plan.injected[check.id] += 1
        elif isinstance(spec, Lag):
            self.late(check, hospital, turn)
        elif isinstance(spec, Corrections):
            stay = self.stay(hospital, self.day(turn), clinical=False)
            rendered = self.send_stay(stay)
            fixed = {**rendered["case"][0], "recordVersion": 2, "admissionDeptName": "骨科(更正)"}
            self.send(hospital, "case", fixed, self.slot_after(self.slot_after(_discharged(stay))))
            self.plan.injected[check.id] += 1
        # daily checks: see volume_defects

    def refused_prefix(self) -> str:
        return next(c.spec.id for c in self.rules.of_kind(RefusedCode))

    def refuse(
        self, hospital: Hospital, kind: str, record: dict[str, Any], expected: Expected
    ) -> None:
        """Send a broken record once the hospital's template stay (its case) is in."""
        self.send(hospital, kind, record, self.ready[hospital.org_code], expected=expected)

    def broken_field(
        self, check: Check, hospital: Hospital, templates: dict[str, Any], turn: int
    ) -> None:
        name, path = check.record_type or "", check.field or ""
        record = copy.deepcopy(templates[_template_for(name, path, templates)])
        record["recordId"] = self.new_id()
        head, _, tail = path.partition(".")
        required = isinstance(check.spec, RequiredFields)
        if tail:
            item = record[head][0]
            if required:
                item.pop(tail, None)
            else:
                item[tail] = BAD_CODE
        elif required:
            record.pop(head, None)
        else:
            record[head] = BAD_CODE
        code = "3001" if required else "3003"
        where = f"{head}.{tail}" if tail else head
        also: tuple[tuple[str, str], ...] = ()
        if tail and required and not record[head][0]:
            also = (("3001", head),)  # the item is now empty: reported as such too
        self.refuse(hospital, name, record, Expected(code, where, also))
        self.plan.injected[check.id] += 1
        self.plan.injected[f"{self.refused_prefix()}.{code}"] += 1

    def refused_code(
        self, check: Check, hospital: Hospital, templates: dict[str, Any], turn: int
    ) -> None:
        case = copy.deepcopy(templates["case"])
        case["recordId"] = self.new_id()
        if check.code == "3002":
            case["birthDate"] = case["birthDate"].replace("-", "/")
            expected = Expected("3002", "birthDate")
        elif check.code == "3004":
            case["admissionDeptName"] = "科" * 60
            expected = Expected("3004", "admissionDeptName")
        elif check.code == "3005":
            case["dischargeDateTime"] = stamp(
                datetime.strptime(case["admissionDateTime"], "%Y-%m-%d %H:%M:%S")
                - timedelta(hours=1)
            )
            expected = Expected("3005", "dischargeDateTime")
        elif check.code == "3007":
            number = case["idNumber"]
            case["idNumber"] = number[:17] + ("0" if number[17] != "0" else "1")
            expected = Expected("3007", "idNumber")
        else:
            return  # 3001, 3003 and 3006 come with the field, code-table and orphan defects
        self.refuse(hospital, "case", case, expected)
        self.plan.injected[check.id] += 1

    def recommended(self, check: Check, hospital: Hospital, turn: int) -> None:
        name, path = check.record_type or "", check.field or ""
        stay = self.stay(hospital, self.day(turn))
        rendered = self.records(stay)
        if name == "vte-event":
            stay.events.append(Event(stay.admitted + hours(30), "1", "4", False))
            rendered = self.records(stay)
        record = rendered[name][0]
        head, _, tail = path.partition(".")
        if tail:
            for item in record[head]:
                item.pop(tail, None)
        else:
            record.pop(head, None)
        ready = stay.discharged or stay.admitted
        for kind, items in rendered.items():
            for item in items:
                self.send(hospital, kind, item, self.slot_after(ready))
        self.plan.injected[check.id] += 1

    def outside_stay(self, check: Check, hospital: Hospital, turn: int) -> None:
        # 1. an assessment sent while the stay was open, dated after the discharge sent later
        stay = self.stay(hospital, self.day(turn), clinical=False)
        opened = stay_records(stay)["case"][0]
        for gone in (
            "dischargeDateTime",
            "dischargeDeptCode",
            "dischargeDeptName",
            "dischargeDisposition",
            "diagnoses",
        ):
            opened.pop(gone, None)
        opened_at = self.slot_after(stay.admitted)
        self.send(hospital, "case", opened, opened_at)
        late = _discharged(stay) + hours(2)
        risk = {
            "recordId": f"{stay.case_id}-R9",
            "recordVersion": 1,
            "caseRecordId": stay.case_id,
            "assessmentTool": "1",
            "timingPoint": "6",
            "assessmentDateTime": stamp(late),
            "totalScore": 4,
            "riskLevel": "3",
        }
        # right after the open case when that went out after the assessment's time: the
        # closing version then follows within the deadline (this defect is not a late one)
        moment = opened_at + hours(1) if opened_at >= late else self.slot_after(late)
        self.send(hospital, "vte-risk", risk, moment)
        closed = {**stay_records(stay)["case"][0], "recordVersion": 2}
        self.send(hospital, "case", closed, moment + timedelta(hours=1))
        self.plan.injected[check.id] += 1
        corrections = next(self.rules.of_kind(Corrections), None)
        if corrections is not None:
            self.plan.injected[corrections.id] += 1
        # 2. prophylaxis started the day after the discharge
        other = self.stay(hospital, self.day(turn + 1))
        rendered = self.send_stay(other)
        after = _discharged(other) + timedelta(days=1)
        measure = _measure(rendered["prophylaxis"][0], "1", {"basicMeasure": "1"})
        measure.update(
            recordId=f"{other.case_id}-PO",
            orderDateTime=stamp(after - hours(1)),
            startDateTime=stamp(after),
            endDateTime=stamp(after + hours(4)),
        )
        self.send(hospital, "prophylaxis", measure, self.slot_after(after + hours(4)))
        self.plan.injected[check.id] += 1

    def duplicate(self, check: Check, hospital: Hospital, turn: int) -> None:
        name = check.record_type or ""
        stay = self.stay(hospital, self.day(turn), clinical=name != "case")
        if name == "vte-event":
            stay.events.append(Event(stay.admitted + hours(30), "1", "4", False))
        rendered = self.send_stay(stay)
        original = rendered[name][0]
        copy_of = {**copy.deepcopy(original), "recordId": f"{original['recordId']}-DUP"}
        ready = stay.discharged or stay.admitted
        self.send(hospital, name, copy_of, self.slot_after(ready) + hours(1))  # an hour after it
        self.plan.injected[check.id] += 1

    def late(self, check: Check, hospital: Hospital, turn: int) -> None:
        if isinstance(check.spec, Lag) and check.spec.record_type == "case":
            stay = self.stay(hospital, self.day(turn), clinical=False)
            case = stay_records(stay)["case"][0]
            held = _discharged(stay) + timedelta(days=LATE_DAYS)
            self.send(hospital, "case", case, self.slot_after(held))
        else:
            stay = self.stay(hospital, self.day(turn), clinical=False)
            self.send_stay(stay)
            event = stay_records(_with_event(stay, stay.admitted + hours(30)))["vte-event"][0]
            self.send(
                hospital,
                "vte-event",
                event,
                self.slot_after(stay.admitted + timedelta(days=LATE_DAYS)),
            )
        self.plan.injected[check.id] += 1

    def volume_defects(self) -> None:
        """Steady admissions at the volume hospital, with gap days and drop days."""
        gaps = [c for c in self.rules.checks.values() if isinstance(c.spec, DailyGap)]
        drops = [c for c in self.rules.checks.values() if isinstance(c.spec, DailyDrop)]
        hospital = self.volume
        self.send(hospital, "organization", organization_record(hospital), self.epoch)
        first = self.start.date() - timedelta(days=20)
        last = self.end.date() - timedelta(days=1)
        gap_days = {self.start.date() + timedelta(days=d) for d in (5, 12)} if gaps else set()
        drop_days = {self.start.date() + timedelta(days=d) for d in (8, 17)} if drops else set()
        day = first
        while day <= last:
            per_day = 0 if day in gap_days else 1 if day in drop_days else VOLUME_PER_DAY
            for n in range(per_day):
                admitted = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=8, minutes=7 * n
                )
                stay = self.stay(hospital, admitted, days=2, clinical=False)
                self.send_stay(stay)
            day += timedelta(days=1)
        for check in gaps:
            self.plan.injected[check.id] += len(gap_days)
        for check in drops:
            self.plan.injected[check.id] += len(drop_days)

    # -- the region's own records, on time

    def base_schedule(self) -> None:
        records = self.region.records()
        hospitals = {h.org_code: h for h in self.base}
        for org, kinds in records.items():
            hospital = hospitals[org]
            ready: dict[str, datetime] = {}
            for record in kinds["organization"]:
                self.send(hospital, "organization", record, self.epoch)
            for record in kinds["case"]:
                moment = _time(record.get("dischargeDateTime") or record["admissionDateTime"])
                ready[record["recordId"]] = moment
                self.send(hospital, "case", record, self.slot_after(moment))
            for kind in RECORD_TYPES[2:]:
                for record in kinds[kind]:
                    own = _time(_own_time(record, self.rules.time_of(kind)))
                    moment = max(own, ready[record["caseRecordId"]])
                    self.send(hospital, kind, record, self.slot_after(moment))


def _discharged(stay: Stay) -> datetime:
    if stay.discharged is None:
        raise ValueError("the defect needs a discharged stay")
    return stay.discharged


def _own_time(record: dict[str, Any], names: list[str]) -> str:
    return next(str(record[n]) for n in names if record.get(n))


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _measure(template: dict[str, Any], category: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A prophylaxis record of another category from a drug template (drug fields dropped)."""
    kept = {
        k: v
        for k, v in template.items()
        if k not in ("drugCode", "drugName", "dose", "doseUnit", "route", "frequency")
    }
    return {**kept, "recordId": f"{template['recordId']}-{category}", "category": category, **extra}


def _with_event(stay: Stay, at: datetime) -> Stay:
    stay.events = [Event(at, "1", "4", False)]
    stay.assessments, stay.bleeding, stay.mech_checks, stay.measures = [], [], [], []
    return stay


def _template_for(name: str, path: str, templates: dict[str, Any]) -> str:
    """Which template holds ``path`` so that removing or spoiling it breaks exactly that field."""
    head, _, tail = path.partition(".")
    if name == "vte-risk" and (head == "items" or head == "toolName"):
        return "vte-risk/items" if head == "items" else "vte-risk/other"
    if name == "bleeding-risk" and head == "factors":
        return "bleeding-risk/factors"
    if name == "mech-contraindication" and head == "reasons":
        return "mech-contraindication/yes"
    if name == "prophylaxis" and head == "basicMeasure":
        return "prophylaxis/1"
    if name == "prophylaxis" and head == "deviceCode":
        return "prophylaxis/2"
    del tail
    return name


def with_defects(region: Region, rules: RuleSet) -> DefectRegion:
    """The region with every check's defects and the upload schedule that carries them."""
    injector = _Injector(region, rules)
    plan = injector.run()
    return DefectRegion(
        region,
        [*region.hospitals, injector.volume],
        list(_batches(plan.sends, injector, region)),
        plan.injected,
        {
            (
                s.org,
                s.record_type,
                str(s.record["recordId"]),
                int(s.record.get("recordVersion", 1)),
            ): s.expected
            for s in plan.sends
            if s.expected is not None
        },
        rules.config.tz,
    )


def _batches(sends: list[_Send], injector: _Injector, region: Region) -> Iterator[Submission]:
    """Sends grouped by moment, institution and record type (dependency order), ≤ 200 a batch."""
    grouped: dict[tuple[datetime, str, int], list[dict[str, Any]]] = defaultdict(list)
    for send in sends:
        grouped[(send.at, send.org, SEND_ORDER.index(send.record_type))].append(send.record)
    tag = f"D{region.spec.seed}"
    tick = 0
    for (moment, org, order), records in sorted(grouped.items()):
        kind = SEND_ORDER[order]
        for start in range(0, len(records), 200):
            tick += 1
            at = moment.replace(tzinfo=injector.tz) + timedelta(seconds=tick)
            yield Submission(
                int(at.timestamp() * 1000),
                org,
                kind,
                f"{tag}-{org[-4:]}-{moment:%Y%m%d%H}-{order}-{start // 200}",
                tuple(records[start : start + 200]),
            )


class SimulatedClock:
    """A settable clock (seconds since the epoch) shared by the gateway and the clients of a replay."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> float:
        return self.now_ms / 1000


def replay(
    defects: DefectRegion,
    rules: RuleSet,
    clients: Mapping[str, VteXClient],
    clock: SimulatedClock,
) -> Iterator[tuple[Submission, Reply]]:
    """Upload every submission at its moment (the clock is set first); yield each reply."""
    for submission in defects.submissions:
        clock.now_ms = submission.at_ms
        service = rules.dictionary.record_types[submission.record_type].service_code
        client = clients[submission.org_code]
        yield submission, client.upload(service, submission.batch_no, submission.records)
