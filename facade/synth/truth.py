"""The indicators' ground truth, computed with plain Python straight from native records.

Deliberately independent of the engine and of the mapping: it reads the generator's records as
hospitals send them (local date-time strings, identity numbers in clear), links people across
hospitals by their identity number rather than the pseudonym, and implements every rule of
``mappings/indicators`` on its own. Only the rules' data (``Definitions``) and the neutral result
container are shared, so a disagreement with the engine points at a real bug on one side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from facade.indicators.definitions import Definitions, Indicator, PopulationCode, Rules
from facade.indicators.periods import parse_period
from facade.indicators.results import IndicatorResult, Tally

Records = Mapping[str, Mapping[str, list[dict[str, Any]]]]
_FORMAT = "%Y-%m-%d %H:%M:%S"


def _time(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT)


@dataclass
class _Case:
    org: str
    record: dict[str, Any]
    admitted: datetime
    discharged: datetime | None
    person: tuple[str, str]
    risks: list[dict[str, Any]] = field(default_factory=list)
    bleeds: list[dict[str, Any]] = field(default_factory=list)
    mechs: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    attributed: list[tuple[str, bool]] = field(default_factory=list)  # (onset, VTE-related death)


def expected(
    records: Records, definitions: Definitions, period: str, indicator_ids: list[str] | None = None
) -> dict[str, IndicatorResult]:
    """Expected result of every indicator (or those named) over the hospitals in ``records``."""
    rules = definitions.rules
    span = parse_period(period, rules.tz)
    start, end = span.start.replace(tzinfo=None), span.end.replace(tzinfo=None)
    cases = _cases(records)
    _attribute_events(records, cases, rules)
    orgs = sorted(records)
    out: dict[str, IndicatorResult] = {}
    for indicator in definitions.select(indicator_ids):
        tally = Tally(
            [c.value for c in indicator.codes], [s.value for s in indicator.stratifiers], orgs
        )
        for case in cases.values():
            if case.discharged is None or not start <= case.discharged < end:
                continue
            members = _members(indicator, case, rules)
            month = case.discharged.strftime("%Y-%m")
            tally.add(case.org, case.record.get("dischargeDeptCode"), month, members)
        out[indicator.id] = tally.result(indicator.id, span.label)
    return out


def _cases(records: Records) -> dict[tuple[str, str], _Case]:
    cases: dict[tuple[str, str], _Case] = {}
    for org, kinds in records.items():
        for record in kinds.get("case", []):
            discharge = record.get("dischargeDateTime")
            cases[(org, record["recordId"])] = _Case(
                org,
                record,
                _time(record["admissionDateTime"]),
                _time(discharge) if discharge else None,
                (record["idType"], record["idNumber"]),
            )
        for kind, target in (
            ("vte-risk", "risks"),
            ("bleeding-risk", "bleeds"),
            ("mech-contraindication", "mechs"),
            ("prophylaxis", "measures"),
        ):
            for record in kinds.get(kind, []):
                getattr(cases[(org, record["caseRecordId"])], target).append(record)
    return cases


def _attribute_events(records: Records, cases: dict[tuple[str, str], _Case], rules: Rules) -> None:
    """Give every VTE event to at most one stay (in-hospital onset: its own; else look back)."""
    by_person: dict[tuple[str, str], list[_Case]] = defaultdict(list)
    for case in cases.values():
        if case.discharged is not None:
            by_person[case.person].append(case)
    onset_rule = rules.ha_vte.in_hospital
    for org, kinds in records.items():
        for event in kinds.get("vte-event", []):
            own = cases[(org, event["caseRecordId"])]
            diagnosed = _time(event["diagnosisDateTime"])
            death = bool(event.get("vteRelatedDeath"))
            after_admission = (diagnosed - own.admitted).total_seconds()
            during = own.discharged is None or diagnosed <= own.discharged
            if (
                event["admissionCondition"] in onset_rule.present_on_admission_codes
                and after_admission > onset_rule.min_hours_after_admission * 3600
                and during
            ):
                own.attributed.append(("in-hospital", death))
                continue
            earlier = [
                c
                for c in by_person[own.person]
                if c.discharged is not None
                and c.discharged < diagnosed
                and (diagnosed.date() - c.discharged.date()).days
                <= rules.ha_vte.post_discharge_days
            ]
            if earlier:
                latest = max(earlier, key=lambda c: (c.discharged, c.org, c.record["recordId"]))
                latest.attributed.append(("post-discharge", death))


def _members(indicator: Indicator, case: _Case, rules: Rules) -> list[str]:
    def holds(code: PopulationCode) -> bool:
        return all(
            _criterion(c.model_dump(mode="json"), case, rules) != c.negate
            for c in indicator.populations[code].criteria
        )

    members: list[str] = []
    if not holds(PopulationCode.INITIAL):
        return members
    members.append(PopulationCode.INITIAL.value)
    if not holds(PopulationCode.DENOMINATOR):
        return members
    members.append(PopulationCode.DENOMINATOR.value)
    excluded = PopulationCode.EXCLUSION in indicator.populations and holds(PopulationCode.EXCLUSION)
    if excluded:
        members.append(PopulationCode.EXCLUSION.value)
    elif holds(PopulationCode.NUMERATOR):
        members.append(PopulationCode.NUMERATOR.value)
    return members


def _band(risk: dict[str, Any], rules: Rules) -> str:
    tool = risk["assessmentTool"]
    configured = next((t for t in rules.risk.tools if t.tool == tool), None)
    if rules.risk.band_source == "score" and configured is not None:
        band = configured.bands[0].band
        for step in sorted(configured.bands, key=lambda b: b.start):
            if float(risk["totalScore"]) >= step.start:
                band = step.band
        return band
    return rules.risk.reported_levels[risk["riskLevel"]]


def _stay_band(case: _Case, rules: Rules) -> tuple[str, str] | None:
    """(band, tool of the earliest assessment at that band), or None when never assessed."""
    if not case.risks:
        return None
    order = rules.risk.band_order
    ranked = sorted(
        case.risks, key=lambda r: (-order.index(_band(r, rules)), _time(r["assessmentDateTime"]))
    )
    return _band(ranked[0], rules), ranked[0]["assessmentTool"]


def _appropriate(case: _Case, rules: Rules) -> bool:
    settled = _stay_band(case, rules)
    p = rules.prophylaxis
    if settled is None or (p.require_bleeding_assessment and not case.bleeds):
        return False
    band, tool = settled
    row = next((r for r in p.matrix if r.tool == tool and r.band == band), None)
    row = row or next(r for r in p.matrix if r.tool == "*" and r.band == band)
    high_bleeding = any(b["bleedingRiskLevel"] in p.bleeding_high_levels for b in case.bleeds)
    options = [
        [c.value for c in alt] for alt in (row.bleeding_high if high_bleeding else row.bleeding_low)
    ]
    if p.mechanical_contraindication_waives_mechanical and any(
        m["contraindicated"] for m in case.mechs
    ):
        options = [[c for c in alt if c != "mechanical"] for alt in options]
    if band in rules.risk.prophylaxis_bands:
        times = [
            _time(r["assessmentDateTime"])
            for r in case.risks
            if _band(r, rules) in rules.risk.prophylaxis_bands
        ]
    else:
        times = [_time(r["assessmentDateTime"]) for r in case.risks]
    deadline = min(times) + timedelta(hours=p.start_within_hours) if p.start_within_hours else None
    names = {"1": "basic", "2": "mechanical", "3": "pharmacological"}
    given = set()
    for measure in case.measures:
        if measure["status"] not in p.executed_statuses or "startDateTime" not in measure:
            continue
        if deadline is None or _time(measure["startDateTime"]) <= deadline:
            given.add(names[measure["category"]])
    return any(all(c in given for c in alt) for alt in options)


def _criterion(spec: dict[str, Any], case: _Case, rules: Rules) -> bool:
    kind = spec["kind"]
    if kind == "vte-risk-assessed":
        return bool(case.risks)
    if kind == "vte-risk-assessed-within":
        if not case.risks:
            return False
        first = min(_time(r["assessmentDateTime"]) for r in case.risks)
        return (first - case.admitted).total_seconds() <= float(spec["hours"]) * 3600
    if kind == "bleeding-risk-assessed":
        return bool(case.bleeds)
    if kind == "risk-band":
        settled = _stay_band(case, rules)
        return settled is not None and settled[0] in spec["bands"]
    if kind == "prophylaxis-given":
        code = {"basic": "1", "mechanical": "2", "pharmacological": "3"}[spec["category"]]
        return any(
            m["category"] == code
            and m["status"] in rules.prophylaxis.executed_statuses
            and "startDateTime" in m
            for m in case.measures
        )
    if kind == "appropriate-prophylaxis":
        return _appropriate(case, rules)
    if kind == "ha-vte":
        return any(onset in spec["onsets"] for onset, _ in case.attributed)
    if kind == "ha-vte-death":
        return any(onset in spec["onsets"] and death for onset, death in case.attributed)
    if kind == "surgical":
        return bool(case.record.get("operations"))
    if kind == "discharge-diagnosis":
        return any(
            d["admissionCondition"] in spec["present_on_admission"]
            and any(d["icd10Code"].startswith(prefix) for prefix in spec["icd10_prefixes"])
            for d in case.record.get("diagnoses", [])
        )
    raise ValueError(f"no ground truth for criterion kind {kind!r}")
