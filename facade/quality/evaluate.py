"""What one record contributes to the counters: pure functions of its state and of related records.

A record's state has an accepted part (its own tokens and facts, from the prepared payload of
its accepted version) and a refusal part (tokens of its latest submission when that was refused
after, or instead of, an acceptance). Its contribution adds the tokens that depend on other
records — its stay, its duplicates, the patient's other stays — and the bucket: the month of the
stay's discharge (admission while it goes on), or of the refusal for a record never accepted.

Times are native local date-time strings (``yyyy-MM-dd HH:mm:ss``), which compare as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import hashes

from facade.dictionary.models import RecordType
from facade.errors import Issue
from facade.mapping.values import is_native_datetime, parse_native
from facade.quality import tokens
from facade.quality.models import (
    AfterDeathRecords,
    AfterDeathStays,
    AfterFirstAssessment,
    AgeRange,
    CodeTableValues,
    Corrections,
    Duplicates,
    Lag,
    Orphans,
    RecommendedFields,
    RefusedCode,
    RequiredFields,
    ScoreBands,
    When,
    WithinStay,
)
from facade.quality.rules import RuleSet

Contribution = list[tuple[str, str]]  # (bucket, token), sorted, without repeats
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class RecordState:
    """One ``dq_record`` row as the evaluator sees it (facts already unsealed)."""

    # The row's id; for a row not yet written, a provisional one above every stored id that
    # keeps the order of insertion (duplicates are ordered by it, as by the ids given later).
    id: int
    record_type: str
    key: str
    stay_key: str | None = None
    patient_key: str | None = None
    dup_key: str | None = None
    version: int | None = None
    accepted_ms: int | None = None
    refused_ms: int | None = None
    own: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Whether some version of the record was accepted."""
        return self.version is not None


def digest(*parts: str) -> str:
    """SM3 of the parts joined by ``|`` (keys that link records without storing their values)."""
    hasher = hashes.Hash(hashes.SM3())
    hasher.update("|".join(parts).encode("utf-8"))
    return hasher.finalize().hex()


def local_text(epoch_ms: int, tz: timezone) -> str:
    """An epoch-millisecond instant as a native local date-time string."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")


def _present(payload: Mapping[str, Any], name: str) -> bool:
    value = payload.get(name)
    return value is not None and value != "" and value != []


def _holds(when: When | None, payload: Mapping[str, Any]) -> bool:
    if when is None:
        return True
    if when.present is not None:
        return _present(payload, when.present)
    return str(payload.get(when.field or "")) in (when.codes or [])


def _filled(payload: Mapping[str, Any], path: str) -> bool:
    """A top-level field or group present, or ``group.field`` present in every item."""
    head, _, tail = path.partition(".")
    if not tail:
        return _present(payload, head)
    items = payload.get(head)
    if not isinstance(items, list):
        return True  # nothing to fill: the condition (group present) decides applicability
    return all(isinstance(item, Mapping) and _present(item, tail) for item in items)


def _time(payload: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _years(birth: str, at: str) -> int:
    """Whole years from a birth date to a date(-time)."""
    by, bm, bd = int(birth[0:4]), int(birth[5:7]), int(birth[8:10])
    ay, am, ad = int(at[0:4]), int(at[5:7]), int(at[8:10])
    return ay - by - ((am, ad) < (bm, bd))


def band_levels(spec: ScoreBands, selector: str, score: float) -> list[str] | None:
    """Levels allowed for a score (None when the tool has no bands); [] below the first band."""
    bands = spec.bands.get(selector)
    if bands is None:
        return None
    allowed: list[str] = []
    for band in bands:
        if score >= band.start:
            allowed = band.levels
    return allowed


@dataclass(frozen=True)
class Accepted:
    """What acceptance of one version sets on a record's state."""

    own: list[str]
    facts: dict[str, Any]
    stay_key: str | None
    patient_key: str | None
    dup_key: str | None


def accept(
    rules: RuleSet,
    rt: RecordType,
    org_code: str,
    payload: Mapping[str, Any],
    version: int,
    received_ms: int,
    previous: Mapping[str, Any],
) -> Accepted:
    """Own tokens and facts of an accepted version (``previous``: facts of the version it replaces)."""
    name = rt.record_type
    stay = rules.config.stay
    tz = rules.config.tz
    own = [tokens.accepted(name)]
    facts: dict[str, Any] = {"t": _time(payload, rules.time_of(name))}
    lags: dict[str, int] = dict(previous.get("lag") or {})
    for check in rules.concerning(name):
        spec = check.spec
        if isinstance(spec, RecommendedFields) and check.record_type == name:
            item = next(i for i in spec.fields[name] if i.field == check.field)
            if _holds(item.when, payload):
                own.append(check.denominator[0])
                if not _filled(payload, item.field):
                    own.append(check.problem)
        elif isinstance(spec, AgeRange) and spec.record_type == name:
            birth, at = payload.get(spec.birth_field), payload.get(spec.at_field)
            if (
                isinstance(birth, str)
                and isinstance(at, str)
                and _DAY.match(birth)
                and _DAY.match(at)
            ):
                own.append(check.denominator[0])
                years = _years(birth, at)
                if not spec.min_years <= years <= spec.max_years:
                    own.append(check.problem)
        elif isinstance(spec, ScoreBands) and spec.record_type == name:
            score = _number(payload.get(spec.score_field))
            level = payload.get(spec.level_field)
            allowed = (
                band_levels(spec, str(payload.get(spec.selector_field)), score)
                if score is not None
                else None
            )
            if allowed is not None and level is not None:
                own.append(check.denominator[0])
                if str(level) not in allowed:
                    own.append(check.problem)
        elif isinstance(spec, Lag) and spec.record_type == name:
            start = _time(payload, [spec.from_field])
            if start is not None and is_native_datetime(start):
                first = lags.setdefault(check.id, received_ms)
                seconds = (
                    parse_native(local_text(first, tz)) - parse_native(start)
                ).total_seconds()
                own.append(check.denominator[0])
                own.append(tokens.lag(check.id, int(seconds // 86400)))
                if seconds > spec.deadline_days * 86400:
                    own.append(check.problem)
        elif isinstance(spec, Corrections) and version > 1:
            own.append(check.problem)
        elif isinstance(spec, AfterFirstAssessment) and name in spec.record_types:
            value = _time(payload, [spec.time_field])
            if value is not None:
                facts.setdefault("f", {})[spec.time_field] = value
    if lags:
        facts["lag"] = lags
    stay_key: str | None = None
    patient_key: str | None = None
    if name == stay.record_type:
        # only date-time text: another processor's payload may hold anything under these names
        facts["adm"] = _time(payload, [stay.admission_field])
        facts["dis"] = _time(payload, [stay.discharge_field])
        facts["death"] = str(payload.get(stay.disposition_field)) in stay.death_codes
        stay_key = str(payload.get("recordId") or "") or None
        patient = payload.get(stay.patient_field)
        patient_key = digest(org_code, str(patient)) if patient not in (None, "") else None
    else:
        link = payload.get(stay.link_field)
        stay_key = str(link) if link not in (None, "") else None
    return Accepted(sorted(set(own)), facts, stay_key, patient_key, _dup_key(rules, name, payload))


def _dup_key(rules: RuleSet, name: str, payload: Mapping[str, Any]) -> str | None:
    for check in rules.of_kind(Duplicates):
        if check.record_type != name or not isinstance(check.spec, Duplicates):
            continue
        values = [payload.get(key) for key in check.spec.keys[name]]
        if any(v is None or v == "" for v in values):
            return None
        return digest(name, *(str(v) for v in values))
    return None


def issue_path(issue: Issue) -> str:
    """``records[3].diagnoses[0].icd10Code`` → ``diagnoses.icd10Code``; ``""`` for the record.

    An issue about a whole item (``records[3].reasons[0]``, e.g. an empty item) keeps a
    trailing ``[]`` (``reasons[]``), so it is never mistaken for the group itself being absent.
    """
    location = issue.location
    if location.startswith("records["):
        location = location.partition("]")[2].lstrip(".")
    if not location:
        return ""
    parts = [part.partition("[")[0] for part in location.split(".")]
    path = ".".join(p for p in parts if p)
    return path + "[]" if location.endswith("]") else path


def refuse(rules: RuleSet, name: str, issues: Iterable[Issue]) -> list[str]:
    """Tokens of a refused submission: codes, rules, missing required fields, out-of-table codes, orphans."""
    found: set[str] = set()
    required = rules.field_checks(RequiredFields)
    coded = rules.field_checks(CodeTableValues)
    refused = {c.code: c for c in rules.of_kind(RefusedCode)}
    orphans = [c for c in rules.of_kind(Orphans) if isinstance(c.spec, Orphans)]
    for issue in issues:
        code = issue.native_code
        found.add(tokens.refusal(code, issue.rule))
        if code in refused:
            found.add(refused[code].problem)
        path = issue_path(issue)
        if code == "3001" and (name, path) in required:
            found.add(required[(name, path)].problem)
        elif code == "3003" and (name, path) in coded:
            found.add(coded[(name, path)].problem)
        elif code == "3006":
            found.update(
                c.problem
                for c in orphans
                if isinstance(c.spec, Orphans) and name in c.spec.record_types
            )
    return sorted(found)


class Context:
    """The related records a contribution may look at (stays, duplicates, the patient's stays)."""

    def __init__(self, rules: RuleSet, states: Iterable[RecordState]) -> None:
        self.rules = rules
        self.tz = rules.config.tz
        self.stay_type = stay_type = rules.config.stay.record_type
        self.stays: dict[str, RecordState] = {}
        self.firsts: dict[tuple[str, str], str] = {}  # (stay, record type) -> earliest time
        self.dups: dict[str, list[RecordState]] = {}
        self.deaths: dict[str, list[RecordState]] = {}
        for state in states:
            if not state.accepted:
                continue
            if state.record_type == stay_type and state.stay_key:
                self.stays[state.stay_key] = state
                if state.patient_key and state.facts.get("death") and state.facts.get("dis"):
                    self.deaths.setdefault(state.patient_key, []).append(state)
            elif state.stay_key and state.facts.get("t"):
                slot = (state.stay_key, state.record_type)
                seen = self.firsts.get(slot)
                if seen is None or state.facts["t"] < seen:
                    self.firsts[slot] = state.facts["t"]
            if state.dup_key:
                self.dups.setdefault(state.dup_key, []).append(state)
        for members in self.dups.values():
            members.sort(key=lambda s: (s.accepted_ms or 0, s.id))

    def bucket(self, state: RecordState) -> str:
        """The month a record's contribution is counted in."""
        tz = self.tz
        if not state.accepted:
            return local_text(state.refused_ms or 0, tz)[:7]
        if state.record_type == self.stay_type:
            moment = state.facts.get("dis") or state.facts.get("adm")
        else:
            case = self.stays.get(state.stay_key or "")
            if case is not None:
                return self.bucket(case)
            moment = state.facts.get("t")
        if isinstance(moment, str) and moment:
            return moment[:7]
        return local_text(state.accepted_ms or 0, tz)[:7]

    def tokens(self, state: RecordState) -> list[str]:
        """Tokens that depend on related records."""
        found: list[str] = []
        name = state.record_type
        case = self.stays.get(state.stay_key or "") if name != self.stay_type else None
        at = state.facts.get("t")
        for check in self.rules.concerning(name):  # the rest never applies to this type
            spec = check.spec
            if isinstance(spec, WithinStay) and name in spec.record_types:
                if case is not None and at and case.facts.get("adm"):
                    found.append(check.denominator[0])
                    discharge = case.facts.get("dis")
                    if at < case.facts["adm"] or (discharge and at > discharge):
                        found.append(check.problem)
            elif isinstance(spec, AfterFirstAssessment) and name in spec.record_types:
                start = (state.facts.get("f") or {}).get(spec.time_field)
                first = self.firsts.get((state.stay_key or "", spec.assessment_type))
                if case is not None and start and first:
                    found.append(check.denominator[0])
                    if start < first:
                        found.append(check.problem)
            elif isinstance(spec, AfterDeathRecords) and name in spec.record_types:
                if case is not None and at:
                    found.append(check.denominator[0])
                    died = case.facts.get("dis")
                    if case.facts.get("death") and died and at > died:
                        found.append(check.problem)
            elif isinstance(spec, AfterDeathStays) and name == self.stay_type:
                admitted = state.facts.get("adm")
                if admitted:
                    found.append(check.denominator[0])
                    deaths = self.deaths.get(state.patient_key or "", [])
                    if any(d.id != state.id and d.facts["dis"] <= admitted for d in deaths):
                        found.append(check.problem)
            elif isinstance(spec, Duplicates) and check.record_type == name and state.dup_key:
                members = self.dups.get(state.dup_key, [])
                if members and members[0].id != state.id:
                    found.append(check.problem)
        return found

    def contribution(self, state: RecordState) -> Contribution:
        """Every (bucket, token) the record currently adds to the counters."""
        bucket = self.bucket(state)
        found = [tokens.received(state.record_type), *state.refusal]
        pairs = set()
        if state.accepted:
            found += state.own
            found += self.tokens(state)
            admitted = state.facts.get("adm")
            if state.record_type == self.stay_type and admitted:
                pairs.add((str(admitted)[:10], tokens.daily(state.record_type)))
        pairs.update((bucket, token) for token in found)
        return sorted(pairs)
