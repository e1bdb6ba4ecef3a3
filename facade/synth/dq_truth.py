"""The data-quality ground truth of a defect region, computed with plain Python from its submissions.

Deliberately independent of ``facade.quality``'s evaluator, recorder and scoring: it replays the
schedule in order, keeps the last accepted version and the last refusal of each record as the
generator expects the gateway to answer (injected broken records are refused with the code and
field the generator chose, everything else is accepted), and then applies every check's
definition to the final records in one pass. Only the rules' data (``RuleSet``) is shared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

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
from facade.quality.rules import RuleSet
from facade.synth.defects import DefectRegion

Tally = dict[tuple[str, str, str], list[int]]  # (org, month, check) -> [numerator, denominator]


@dataclass
class _Record:
    org: str
    kind: str
    key: str
    seen: int  # order of the first submission of the key
    raw: dict[str, Any] | None = None  # last accepted version
    version: int = 0
    accepted_ms: int | None = None
    first_with: dict[str, int] = field(default_factory=dict)  # field -> first receipt carrying it
    refusal: tuple[str, str] | None = None  # (code, path) of a refusal after the last acceptance
    refused_ms: int = 0


@dataclass
class Truth:
    """Expected numerator and denominator of every check, per institution and month."""

    tally: Tally
    admissions: dict[str, dict[date, int]]  # org -> day -> accepted stays admitted that day

    def counts(self, org: str, months: Iterable[str], check_id: str) -> tuple[int, int]:
        """Summed over ``months``."""
        numerator = denominator = 0
        for month in months:
            n, d = self.tally.get((org, month, check_id), [0, 0])
            numerator, denominator = numerator + n, denominator + d
        return numerator, denominator

    def daily(
        self, rules: RuleSet, org: str, first: date, last: date, today: date
    ) -> dict[str, tuple[int, int]]:
        """Gap and drop checks of one institution over ``first``..``last``."""
        per_day = self.admissions.get(org, {})
        out: dict[str, tuple[int, int]] = {}
        for check in rules.checks.values():
            spec = check.spec
            if not isinstance(spec, DailyGap | DailyDrop):
                continue
            judged = found = 0
            day = first
            while day <= last:
                window = [
                    per_day.get(day - timedelta(days=n), 0) for n in range(1, spec.history_days + 1)
                ]
                mean = sum(window) / spec.history_days
                count = per_day.get(day, 0)
                if day < today and mean >= spec.min_baseline:
                    judged += 1
                    if isinstance(spec, DailyGap):
                        found += count == 0
                    else:
                        found += 0 < count < spec.ratio * mean
                day += timedelta(days=1)
            out[check.id] = (found, judged)
        return out


def expected_quality(defects: DefectRegion, rules: RuleSet) -> Truth:
    """Replay the schedule and count every check's problems and population."""
    records = _replay(defects)
    tz = rules.config.tz
    stay = rules.config.stay
    cases = {(r.org, r.key): r for r in records.values() if r.kind == stay.record_type and r.raw}

    def month_of_ms(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m")

    def own_time(r: _Record) -> str | None:
        assert r.raw is not None  # noqa: S101 - called for accepted records only
        return next((r.raw[n] for n in rules.time_of(r.kind) if r.raw.get(n)), None)

    def case_of(r: _Record) -> _Record | None:
        if r.raw is None or r.kind == stay.record_type:
            return None
        return cases.get((r.org, str(r.raw.get(stay.link_field))))

    def month(r: _Record) -> str:
        if r.raw is None:
            return month_of_ms(r.refused_ms)
        if r.kind == stay.record_type:
            return str(r.raw.get(stay.discharge_field) or r.raw[stay.admission_field])[:7]
        case = case_of(r)
        if case is not None:
            return month(case)
        moment = own_time(r)
        return moment[:7] if moment else month_of_ms(r.accepted_ms or 0)

    tally: Tally = defaultdict(lambda: [0, 0])

    def count(r: _Record, check_id: str, applies: bool, problem: bool) -> None:
        if applies:
            cell = tally[(r.org, month(r), check_id)]
            cell[1] += 1
            cell[0] += problem

    first_risk: dict[tuple[str, str], str] = {}
    groups: dict[tuple[str, str, tuple[str, ...]], list[_Record]] = defaultdict(list)
    deaths: dict[tuple[str, str], list[_Record]] = defaultdict(list)
    for r in records.values():
        if r.raw is None:
            continue
        for check in rules.of_kind(AfterFirstAssessment):
            assert isinstance(check.spec, AfterFirstAssessment)  # noqa: S101
            if r.kind == check.spec.assessment_type and own_time(r):
                slot = (r.org, str(r.raw.get(stay.link_field)))
                first_risk[slot] = min(first_risk.get(slot, "9999"), str(own_time(r)))
        for spec in {id(c.spec): c.spec for c in rules.of_kind(Duplicates)}.values():
            assert isinstance(spec, Duplicates)  # noqa: S101
            names = spec.keys.get(r.kind)
            if names and all(r.raw.get(n) not in (None, "") for n in names):
                groups[(r.org, r.kind, tuple(str(r.raw[n]) for n in names))].append(r)
        if (
            r.kind == stay.record_type
            and str(r.raw.get(stay.disposition_field)) in stay.death_codes
            and r.raw.get(stay.discharge_field)
        ):
            deaths[(r.org, str(r.raw.get(stay.patient_field)))].append(r)
    later_copies: set[int] = set()
    for members in groups.values():
        members.sort(key=lambda m: (m.accepted_ms or 0, m.seen))
        later_copies.update(id(m) for m in members[1:])

    for r in records.values():
        for check in rules.checks.values():
            spec = check.spec
            if isinstance(spec, RequiredFields | CodeTableValues):
                if r.kind == check.record_type:
                    code = "3001" if isinstance(spec, RequiredFields) else "3003"
                    count(r, check.id, True, r.refusal == (code, check.field))
            elif isinstance(spec, RefusedCode):
                count(r, check.id, True, r.refusal is not None and r.refusal[0] == check.code)
            elif isinstance(spec, Orphans):
                if r.kind in spec.record_types:
                    count(r, check.id, True, r.refusal is not None and r.refusal[0] == "3006")
            elif r.raw is None:
                continue
            elif isinstance(spec, RecommendedFields) and r.kind == check.record_type:
                item = next(i for i in spec.fields[r.kind] if i.field == check.field)
                when = item.when
                applies = when is None or (
                    _given(r.raw.get(when.present))
                    if when.present
                    else str(r.raw.get(when.field or "")) in (when.codes or [])
                )
                count(r, check.id, applies, not _filled(r.raw, item.field))
            elif isinstance(spec, Corrections):
                count(r, check.id, True, r.version > 1)
            elif isinstance(spec, Duplicates) and r.kind == check.record_type:
                count(r, check.id, True, id(r) in later_copies)
            elif isinstance(spec, AgeRange) and r.kind == spec.record_type:
                birth, at = r.raw.get(spec.birth_field), r.raw.get(spec.at_field)
                if birth and at:
                    years = int(at[:4]) - int(birth[:4]) - ((at[5:10]) < (birth[5:10]))
                    count(r, check.id, True, not spec.min_years <= years <= spec.max_years)
            elif isinstance(spec, ScoreBands) and r.kind == spec.record_type:
                bands = spec.bands.get(str(r.raw.get(spec.selector_field)))
                score = r.raw.get(spec.score_field)
                level = r.raw.get(spec.level_field)
                if bands and isinstance(score, int | float) and level is not None:
                    allowed = [b.levels for b in bands if score >= b.start]
                    count(r, check.id, True, not allowed or str(level) not in allowed[-1])
            elif isinstance(spec, Lag) and r.kind == spec.record_type:
                start = r.raw.get(spec.from_field)
                if start:
                    received = datetime.fromtimestamp(r.first_with[spec.from_field] / 1000, tz)
                    lag = received.replace(tzinfo=None) - datetime.strptime(
                        start, "%Y-%m-%d %H:%M:%S"
                    )
                    count(r, check.id, True, lag > timedelta(days=spec.deadline_days))
            elif isinstance(spec, WithinStay) and r.kind in spec.record_types:
                case, at = case_of(r), own_time(r)
                if case is not None and case.raw is not None and at:
                    adm, dis = case.raw[stay.admission_field], case.raw.get(stay.discharge_field)
                    count(r, check.id, True, at < adm or bool(dis and at > dis))
            elif isinstance(spec, AfterFirstAssessment) and r.kind in spec.record_types:
                start = r.raw.get(spec.time_field)
                first = first_risk.get((r.org, str(r.raw.get(stay.link_field))))
                if case_of(r) is not None and start and first:
                    count(r, check.id, True, start < first)
            elif isinstance(spec, AfterDeathRecords) and r.kind in spec.record_types:
                case, at = case_of(r), own_time(r)
                if case is not None and case.raw is not None and at:
                    died = case.raw.get(stay.discharge_field)
                    dead = str(case.raw.get(stay.disposition_field)) in stay.death_codes
                    count(r, check.id, True, bool(dead and died and at > died))
            elif isinstance(spec, AfterDeathStays) and r.kind == stay.record_type:
                admitted = r.raw.get(stay.admission_field)
                if admitted:
                    earlier = deaths.get((r.org, str(r.raw.get(stay.patient_field))), [])
                    problem = any(
                        d is not r and d.raw is not None and d.raw[stay.discharge_field] <= admitted
                        for d in earlier
                    )
                    count(r, check.id, True, problem)
    admissions: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for (org, _key), case in cases.items():
        assert case.raw is not None  # noqa: S101
        day = date.fromisoformat(str(case.raw[stay.admission_field])[:10])
        admissions[org][day] += 1
    return Truth(dict(tally), {o: dict(d) for o, d in admissions.items()})


def _replay(defects: DefectRegion) -> dict[tuple[str, str, str], _Record]:
    records: dict[tuple[str, str, str], _Record] = {}
    for submission in sorted(defects.submissions, key=lambda s: s.at_ms):
        for index, raw in enumerate(submission.records):
            key = str(raw["recordId"])
            slot = (submission.org_code, submission.record_type, key)
            record = records.setdefault(
                slot, _Record(submission.org_code, submission.record_type, key, len(records))
            )
            version = int(raw.get("recordVersion", 1))
            expected = defects.expected.get((*slot, version))
            del index
            if expected is not None and expected.code is not None:
                record.refusal = (expected.code, expected.path)
                record.refused_ms = submission.at_ms
                continue
            record.raw, record.version, record.refusal = raw, version, None
            record.accepted_ms = record.accepted_ms or submission.at_ms
            for name, value in raw.items():
                if _given(value):
                    record.first_with.setdefault(name, submission.at_ms)
    return records


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _filled(raw: dict[str, Any], path: str) -> bool:
    head, _, tail = path.partition(".")
    if not tail:
        return _given(raw.get(head))
    items = raw.get(head)
    if not isinstance(items, list):
        return True
    return all(_given(item.get(tail)) for item in items)
