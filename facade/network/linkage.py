"""Record-level linking across child regions, for the indicators that need it (post-discharge HA-VTE).

A VTE diagnosed within 90 days after a discharge belongs to that stay, whichever hospital reported
either; when the two hospitals report to different cities, neither city can see the pair. So each
child sends its parent, per period, the minimum the parent needs to link across cities:

- **events**: the VTE events that look back for a prior discharge (not of in-hospital onset),
  diagnosed from the period's start to 90 days after its end: province pseudonym, diagnosis
  moment, VTE-related death;
- **discharges**: every stay discharged in that window: an opaque stay token, the province
  pseudonym, the discharge moment (no hospital, no clinical content);
- **stays**: details only of the stays that turn out hospital-associated: those with an event of
  in-hospital onset (known locally), and those the parent attributed a post-discharge event to
  (the parent answers their tokens; the child sends their details in the next round). A detail
  carries the strata (hospital, department, month) and which *linked populations* the stay meets
  locally (e.g. ``C4/numerator``: its prophylaxis was not appropriate).

A *linked population* is one whose criteria include ``ha-vte``/``ha-vte-death``: its membership
is "the local criteria hold (child) and the HA criteria hold (parent, over every city's events)".
The parent attributes each event to the person's most recent discharge before it within the
window, exactly as facade.indicators.attribution does inside one facade.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from facade.errors import ConfigurationError
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.indicators.attribution import Attributor
from facade.indicators.criteria import Evaluator
from facade.indicators.definitions import (
    Criterion,
    Definitions,
    HaVte,
    HaVteDeath,
    PopulationCode,
    Rules,
)
from facade.indicators.facts import StayFacts, parse_time, reference_id
from facade.indicators.joins import iso
from facade.indicators.periods import Period, parse_period
from facade.indicators.search import Params, Searcher
from facade.indicators.service import catalog, engine
from facade.indicators.vocab import DISCHARGE_DATE, IMP
from facade.network.keys import stay_token
from facade.network.recorder import LinkageRecorder
from facade.settings import Settings
from facade.upstream import UpstreamClient

HEX64 = r"^[0-9a-f]{64}$"
HEX32 = r"^[0-9a-f]{32}$"
_HA_KINDS = (HaVte, HaVteDeath)
_CHUNK = 40


class Wire(BaseModel):
    """Network messages: strict, camelCase on the wire."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LinkageEvent(Wire):
    """A VTE event that looks back for a prior discharge."""

    person: str = Field(pattern=HEX64)
    diagnosed: AwareDatetime
    death: bool


class LinkageDischarge(Wire):
    """A stay discharged in the linkage window."""

    stay: str = Field(pattern=HEX32)
    person: str = Field(pattern=HEX64)
    discharged: AwareDatetime


class StayDetail(Wire):
    """What the parent counts of a hospital-associated stay discharged in the period."""

    stay: str = Field(pattern=HEX32)
    hospital: str = Field(pattern=r"^[0-9A-Z]{18}$")
    department: str = Field(min_length=1, max_length=80)
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")
    members: list[str] = Field(max_length=200)
    in_hospital: list[bool] = Field(alias="inHospital", max_length=100)


class Unlinkable(Wire):
    """Events and discharges whose person has no province pseudonym (received before the linkage
    key was configured): they cannot be linked across cities, so the parent is told how many."""

    events: int = Field(default=0, ge=0)
    discharges: int = Field(default=0, ge=0)


class LinkageSubmission(Wire):
    """One child region's linkage data for one period (``PUT /network/v1/linkage/{period}``)."""

    region: str = Field(pattern=r"^[0-9]{6}$")
    period: str = Field(min_length=4, max_length=16)
    key_check: str = Field(alias="keyCheck", pattern=r"^[0-9a-f]{16}$")
    events: list[LinkageEvent] = Field(max_length=2_000_000)
    discharges: list[LinkageDischarge] = Field(max_length=5_000_000)
    stays: list[StayDetail] = Field(max_length=1_000_000)
    # The attribution version (the parent's answer) these stay details respond to.
    answers: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    unlinkable: Unlinkable = Field(default_factory=Unlinkable)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON (a re-sent identical submission changes nothing)."""
        return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()


# -- which populations are linked


@dataclass(frozen=True)
class LinkedPopulation:
    """A population whose membership needs the parent's cross-region attribution."""

    indicator: str
    code: str
    local: tuple[Criterion, ...]  # evaluated by the child on its own stay
    linked: tuple[Criterion, ...]  # ha-vte criteria, evaluated by the parent

    @property
    def key(self) -> str:
        """``C4/numerator``."""
        return f"{self.indicator}/{self.code}"


def linked_populations(definitions: Definitions) -> list[LinkedPopulation]:
    """Every linked population; ConfigurationError for a definition the parent cannot aggregate.

    A linked population must hold a positive ha-vte criterion (else stays the children never
    send could belong to it), and an indicator with linked populations may not have exclusions
    (the numerator's "not excluded" would need every stay as well).
    """
    out: list[LinkedPopulation] = []
    for indicator in definitions.indicators.values():
        for code in indicator.codes:
            chain = indicator.chain(code)
            ha = tuple(c for c in chain if isinstance(c, _HA_KINDS))
            if not ha:
                continue
            if PopulationCode.EXCLUSION in indicator.populations:
                raise ConfigurationError(
                    f"indicator {indicator.id}: linked populations with exclusions cannot be "
                    "aggregated across regions"
                )
            if all(c.negate for c in ha):
                raise ConfigurationError(
                    f"indicator {indicator.id}: population {code.value} needs a positive ha-vte "
                    "criterion to be aggregated across regions"
                )
            local = tuple(c for c in chain if not isinstance(c, _HA_KINDS))
            out.append(LinkedPopulation(indicator.id, code.value, local, ha))
    return out


# -- child side: what to send


class Collector:
    """Collects this platform's linkage data of one period: ``prepare`` reads the events and
    discharges once, ``submission`` adds the details of the stays the parent asks about."""

    def __init__(
        self, settings: Settings, upstream: UpstreamClient, recorder: LinkageRecorder, period: str
    ) -> None:
        loaded = catalog(settings)
        self.settings = settings
        self.upstream = upstream
        self.recorder = recorder
        self.definitions, self.vocab = loaded.definitions, loaded.vocab
        self.rules = self.definitions.rules
        self.span = parse_period(period, self.rules.tz)
        self.orgs = settings.indicator_region or None
        tag = self.vocab.tenant_tag
        self.scope: Params = (
            [("_tag", ",".join(f"{tag}|{o}" for o in self.orgs))] if self.orgs else []
        )
        self.key = settings.secret("pseudonym_key")
        self.events: list[LinkageEvent] = []
        self.discharges: list[LinkageDischarge] = []
        self.unlinkable = Unlinkable()
        self.in_hospital: dict[str, list[tuple[str, bool]]] = {}
        self.token_to_ref: dict[str, str] = {}
        self._details: dict[str, StayDetail] = {}
        self._asked: set[str] = set()  # stays already looked up (found in the period or not)

    async def prepare(self) -> None:
        """Read the look-back events, the discharges of the window and the people behind them."""
        searcher = Searcher(
            self.upstream,
            concurrency=self.settings.indicator_concurrency,
            page_size=self.settings.indicator_page_size,
        )
        rules, span = self.rules, self.span
        attributor = Attributor(searcher, rules, self.vocab, self.scope)
        self.in_hospital, looking_back = await attributor.classify(span)
        start, horizon = span.start.timestamp(), _horizon(span, rules).timestamp()
        events = [e for e in looking_back if start <= e.diagnosed < horizon]
        discharges = await _discharges(
            searcher, self.scope, span.start, _horizon(span, rules), rules
        )
        regional = await _regional(searcher, self.scope)
        people = await run_in_threadpool(self.recorder.people, set(regional.values()))

        def person(patient: str | None) -> str | None:
            return people.get(regional.get(patient or "", ""))

        lost_events = lost_discharges = 0
        for event in events:
            who = person(event.patient)
            if who is None:
                lost_events += 1
                continue
            moment = datetime.fromtimestamp(event.diagnosed, rules.tz)
            self.events.append(LinkageEvent(person=who, diagnosed=moment, death=event.death))
        for ref, patient, ended in discharges:
            token = stay_token(ref, self.key)
            self.token_to_ref[token] = ref
            who = person(patient)
            if who is None:
                lost_discharges += 1
                continue
            moment = datetime.fromtimestamp(ended, rules.tz)
            self.discharges.append(LinkageDischarge(stay=token, person=who, discharged=moment))
        self.events.sort(key=lambda e: (e.person, e.diagnosed))
        self.discharges.sort(key=lambda d: d.stay)
        self.unlinkable = Unlinkable(events=lost_events, discharges=lost_discharges)

    async def submission(
        self, attributed: Iterable[str] = (), answers: str | None = None
    ) -> LinkageSubmission:
        """The data to send: events, discharges and the details of the in-hospital HA stays and
        of the ``attributed`` stays (read once each)."""
        wanted = set(self.in_hospital) | {
            self.token_to_ref[t] for t in attributed if t in self.token_to_ref
        }
        wanted -= self._asked
        self._asked |= wanted
        if wanted:
            for detail in await _details(
                self.settings,
                self.upstream,
                self.definitions,
                self.span,
                self.orgs,
                wanted,
                self.in_hospital,
                self.key,
            ):
                self._details[detail.stay] = detail
        chosen = set(attributed) | {stay_token(ref, self.key) for ref in self.in_hospital}
        return LinkageSubmission(
            region=self.settings.uplink_region_code,
            period=self.span.label,
            key_check=self.recorder.key_check,
            events=self.events,
            discharges=self.discharges,
            stays=sorted(
                (d for t, d in self._details.items() if t in chosen), key=lambda d: d.stay
            ),
            answers=answers,
            unlinkable=self.unlinkable,
        )


def _horizon(span: Period, rules: Rules) -> datetime:
    """The end of the linkage window: events up to 90 days (and a day) after the period."""
    return span.end + timedelta(days=rules.ha_vte.post_discharge_days + 1)


async def _discharges(
    searcher: Searcher, scope: Params, start: datetime, horizon: datetime, rules: Rules
) -> list[tuple[str, str | None, float]]:
    """(Encounter/<id>, Patient/<id>, discharge epoch) of every stay discharged in the window."""
    params = [
        *scope,
        ("class", IMP),
        (DISCHARGE_DATE.code, f"ge{iso(start)}"),
        (DISCHARGE_DATE.code, f"lt{iso(horizon)}"),
    ]
    found = []
    async for encounter in searcher.stream("Encounter", params, "period,subject"):
        ended = parse_time((encounter.get("period") or {}).get("end"), rules.tz)
        if ended is not None and start.timestamp() <= ended < horizon.timestamp():
            patient = reference_id(encounter.get("subject"))
            found.append((f"Encounter/{encounter['id']}", patient, ended))
    return found


async def _regional(searcher: Searcher, scope: Params) -> dict[str, str]:
    """Patient/<id> → regional pseudonym, for every patient in scope (one paged stream)."""
    found: dict[str, str] = {}
    async for patient in searcher.stream("Patient", list(scope), "identifier"):
        for identifier in patient.get("identifier") or []:
            if identifier.get("system") == REGIONAL_PSEUDONYM_SYSTEM and identifier.get("value"):
                found[f"Patient/{patient['id']}"] = str(identifier["value"])
    return found


async def _details(
    settings: Settings,
    upstream: UpstreamClient,
    definitions: Definitions,
    span: Period,
    orgs: list[str] | None,
    wanted: set[str],
    in_hospital: Mapping[str, list[tuple[str, bool]]],
    key: bytes,
) -> list[StayDetail]:
    """Details of the wanted stays that were discharged in the period."""
    if not wanted:
        return []
    linked = linked_populations(definitions)
    criteria = [c for lp in linked for c in lp.local]
    facts = await engine(settings, upstream).census_facts(
        span, criteria, orgs=orgs, keep=lambda ref, _facts: ref in wanted
    )
    evaluator = Evaluator(definitions.rules)
    return [
        StayDetail(
            stay=stay_token(ref, key),
            hospital=stay.org,
            department=stay.department_key,
            month=stay.month,
            members=[lp.key for lp in linked if evaluator.holds(list(lp.local), stay)],
            in_hospital=[
                death for onset, death in in_hospital.get(ref, []) if onset == "in-hospital"
            ],
        )
        for ref, stay in facts.items()
    ]


# -- parent side: linking every region's data


@dataclass
class LinkedStay:
    """A hospital-associated stay of some child region, as the parent counts it."""

    region: str
    detail: StayDetail
    post_discharge: list[bool] = field(default_factory=list)  # death flags of attributed events

    def facts(self) -> StayFacts:
        """The stay as the criteria evaluator sees it (only ``ha`` matters to linked criteria)."""
        facts = StayFacts(self.detail.hospital, None, self.detail.month, 0.0, 0.0)
        facts.ha = [("in-hospital", d) for d in self.detail.in_hospital] + [
            ("post-discharge", d) for d in self.post_discharge
        ]
        return facts


@dataclass
class Linkage:
    """The result of linking a period: hospital-associated stays, and each region's answer."""

    stays: list[LinkedStay]
    attributed: dict[str, list[str]]  # region → stay tokens with post-discharge events (period)
    versions: dict[str, str]  # region → version of its attributed set
    missing: dict[str, list[str]]  # region → attributed tokens it has sent no details for yet

    def complete(self, region: str, answers: str | None) -> bool:
        """Whether the region's details answer the current attribution."""
        return answers == self.versions.get(region) and not self.missing.get(region)


def version_of(tokens: Iterable[str]) -> str:
    """A short digest of an attributed set (what a child's details must answer)."""
    return hashlib.sha256(",".join(sorted(tokens)).encode()).hexdigest()[:16]


def link(parts: Mapping[str, LinkageSubmission], span: Period, rules: Rules) -> Linkage:
    """Attribute every look-back event to the person's most recent discharge (any region) that
    ended before it, at most ``post_discharge_days`` calendar days earlier; keep the stays of the
    period that are hospital-associated."""
    tz, days = rules.tz, rules.ha_vte.post_discharge_days
    by_person: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    in_period: set[tuple[str, str]] = set()
    start, end = span.start.timestamp(), span.end.timestamp()
    for region, part in parts.items():
        for discharge in part.discharges:
            ended = discharge.discharged.timestamp()
            by_person[discharge.person].append((ended, region, discharge.stay))
            if start <= ended < end:
                in_period.add((region, discharge.stay))
    post: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for part in parts.values():
        for event in part.events:
            diagnosed = event.diagnosed.timestamp()
            day = event.diagnosed.astimezone(tz).date()
            best: tuple[float, str, str] | None = None
            for candidate in by_person.get(event.person, ()):
                ended = candidate[0]
                if ended >= diagnosed:
                    continue
                if (day - datetime.fromtimestamp(ended, tz).date()).days > days:
                    continue
                if best is None or candidate > best:
                    best = candidate
            if best is not None and (best[1], best[2]) in in_period:
                post[(best[1], best[2])].append(event.death)
    attributed: dict[str, list[str]] = {region: [] for region in parts}
    for region, token in post:
        attributed[region].append(token)
    stays: list[LinkedStay] = []
    missing: dict[str, list[str]] = {}
    for region, part in parts.items():
        details = {d.stay: d for d in part.stays}
        missing[region] = sorted(t for t in attributed[region] if t not in details)
        for token, detail in details.items():
            deaths = post.get((region, token), [])
            if detail.in_hospital or deaths:
                stays.append(LinkedStay(region, detail, list(deaths)))
    return Linkage(
        stays=stays,
        attributed={r: sorted(t) for r, t in attributed.items()},
        versions={r: version_of(t) for r, t in attributed.items()},
        missing=missing,
    )


def summary(part: LinkageSubmission) -> dict[str, Any]:
    """Counts of a submission (status pages and answers; never the pseudonyms)."""
    return {
        "events": len(part.events),
        "discharges": len(part.discharges),
        "stays": len(part.stays),
        "unlinkable": part.unlinkable.model_dump(),
    }
