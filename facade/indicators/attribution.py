"""Hospital-associated VTE: which stay each VTE event belongs to, across the hospitals of the region.

An event of in-hospital onset (入院病情 in the configured codes, diagnosed more than N hours after
admission and not after discharge) belongs to its own stay. Any other event — present on
admission at a readmission, or diagnosed after the stay by the hospital that discharged the
patient — belongs to the patient's most recent discharge, at any hospital in scope, that ended
before the diagnosis and at most ``post_discharge_days`` calendar days (local dates) before it.

Hospitals keep their own Patient resources; the regional pseudonym identifier
(REGIONAL_PSEUDONYM_SYSTEM, the same for one person everywhere) is the only link between them:
event → its Patient → pseudonym → every Patient in scope with that pseudonym → their discharges.
Only the few patients with events are looked up, in chunks of OR-ed values. The result is a
small map from stay (``Encounter/<id>``) to its attributed events, computed once per evaluation
and independent of how the stays themselves are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM
from facade.indicators.definitions import Rules
from facade.indicators.facts import (
    coding_code,
    extension_value,
    parse_time,
    reference_id,
)
from facade.indicators.periods import Period
from facade.indicators.search import Params, Searcher
from facade.indicators.vocab import DISCHARGE_DATE, Vocabulary

EVENT_ELEMENTS = "encounter,subject,recordedDate,extension"
_CHUNK = 40


@dataclass(frozen=True)
class VteEvent:
    """What attribution needs of one VTE event."""

    id: str
    encounter: str | None
    patient: str | None
    diagnosed: float
    present_on_admission: str | None
    death: bool


@dataclass
class AttributionStats:
    """How the events were attributed (for the report and the benchmark)."""

    events: int = 0
    in_hospital: int = 0
    post_discharge: int = 0
    unattributed: int = 0
    to_stays_in_period: int = 0
    lookups: dict[str, int] = field(default_factory=dict)


Attributions = dict[str, list[tuple[str, bool]]]  # Encounter/<id> -> [(onset, VTE-related death)]


class Attributor:
    """Attributes the VTE events relevant to one period to stays."""

    def __init__(self, searcher: Searcher, rules: Rules, vocab: Vocabulary, scope: Params) -> None:
        self.searcher = searcher
        self.rules = rules
        self.vocab = vocab
        self.scope = list(scope)
        self.tz = rules.tz
        self.poa_url = vocab.extension("present-on-admission")
        self.death_url = vocab.extension("vte-related-death")
        self.stats = AttributionStats()

    async def attribute(self, period: Period) -> Attributions:
        """Read the events that can belong to stays discharged in ``period`` and attribute them."""
        found, looking_back = await self.classify(period)
        await self._look_back(looking_back, found)
        return found

    async def attribute_people(
        self, period: Period, patients: list[str], discharged_in_period: set[str]
    ) -> Attributions:
        """Attribute the events of these patients (``Patient/<id>``: every record of each person
        in scope) the way ``attribute`` would: the same events, the same look-back.

        ``discharged_in_period`` holds their stays (``Encounter/<id>``) discharged in the period;
        an event of such a stay is relevant whatever its date, as in the region-wide search.
        Attributions depend only on a person's own events and discharges, so those of the other
        people are unchanged (the incremental refresh re-reads only the people touched).
        """
        days = self.rules.ha_vte.post_discharge_days
        low, high = period.start.timestamp(), (period.end + timedelta(days=days + 1)).timestamp()
        found: dict[str, VteEvent] = {}
        ids = sorted(p.split("/", 1)[1] for p in patients)
        base: Params = [*self.scope, ("_profile", self.vocab.event_profile)]
        async for condition in self.searcher.by_values(
            "Condition", "subject", [f"Patient/{i}" for i in ids], base, EVENT_ELEMENTS, _CHUNK
        ):
            event = self._event(condition)
            if event is not None and (
                event.encounter in discharged_in_period or low < event.diagnosed < high
            ):
                found[event.id] = event
        return await self.attribute_events(sorted(found.values(), key=lambda e: e.id))

    async def attribute_events(self, events: list[VteEvent]) -> Attributions:
        """Attribute these events (already selected for a period) to stays."""
        found, looking_back = await self._classify(events)
        await self._look_back(looking_back, found)
        return found

    async def classify(self, period: Period) -> tuple[Attributions, list[VteEvent]]:
        """The events relevant to ``period``: those of in-hospital onset, attributed to their own
        stays, and those that look back for a prior discharge (not attributed yet).

        The network uplink sends the second kind upward, where discharges in other cities are
        known too (facade/network/linkage.py).
        """
        return await self._classify(await self._events(period))

    async def _classify(self, events: list[VteEvent]) -> tuple[Attributions, list[VteEvent]]:
        self.stats.events = len(events)
        onset = self.rules.ha_vte.in_hospital
        stays = await self._own_stays(events)
        found: Attributions = {}
        looking_back: list[VteEvent] = []
        for event in events:
            own = stays.get(event.encounter or "")
            if (
                own is not None
                and event.present_on_admission in onset.present_on_admission_codes
                and event.diagnosed - own[0] > onset.min_hours_after_admission * 3600
                and (own[1] is None or event.diagnosed <= own[1])
            ):
                self.stats.in_hospital += 1
                found.setdefault(event.encounter or "", []).append(("in-hospital", event.death))
            else:
                looking_back.append(event)
        return found, looking_back

    # -- reading

    async def _events(self, period: Period) -> list[VteEvent]:
        """Events of stays discharged in the period, plus events diagnosed in the look-back window."""
        days = self.rules.ha_vte.post_discharge_days
        base: Params = [*self.scope, ("_profile", self.vocab.event_profile)]
        horizon = period.end + timedelta(days=days + 1)
        searches = (
            [
                *base,
                (f"encounter.{DISCHARGE_DATE.code}", f"ge{_iso(period.start)}"),
                (f"encounter.{DISCHARGE_DATE.code}", f"lt{_iso(period.end)}"),
            ],
            [
                *base,
                ("recorded-date", f"gt{_iso(period.start)}"),
                ("recorded-date", f"lt{_iso(horizon)}"),
            ],
        )
        found: dict[str, VteEvent] = {}
        for params in searches:
            async for condition in self.searcher.stream("Condition", params, EVENT_ELEMENTS):
                event = self._event(condition)
                if event is not None:
                    found[event.id] = event
        return sorted(found.values(), key=lambda e: e.id)

    def _event(self, condition: dict[str, Any]) -> VteEvent | None:
        diagnosed = parse_time(condition.get("recordedDate"), self.tz)
        rid = condition.get("id")
        if diagnosed is None or not isinstance(rid, str):
            return None
        death = extension_value(condition, self.death_url) is True
        return VteEvent(
            rid,
            reference_id(condition.get("encounter")),
            reference_id(condition.get("subject")),
            diagnosed,
            coding_code(extension_value(condition, self.poa_url)),
            death,
        )

    async def _own_stays(self, events: list[VteEvent]) -> dict[str, tuple[float, float | None]]:
        """(admitted, discharged) of each event's own stay, for the events that could be of
        in-hospital onset (the others are attributed by look-back whatever their stay)."""
        codes = self.rules.ha_vte.in_hospital.present_on_admission_codes
        wanted = sorted(
            {
                e.encounter.split("/", 1)[1]
                for e in events
                if e.encounter and e.present_on_admission in codes
            }
        )
        self.stats.lookups["encounters-of-events"] = len(wanted)
        known: dict[str, tuple[float, float | None]] = {}
        async for encounter in self.searcher.by_values(
            "Encounter", "_id", wanted, [], "period", _CHUNK
        ):
            period = encounter.get("period") or {}
            admitted = parse_time(period.get("start"), self.tz)
            if admitted is not None:
                known[f"Encounter/{encounter['id']}"] = (
                    admitted,
                    parse_time(period.get("end"), self.tz),
                )
        return known

    async def _look_back(self, events: list[VteEvent], found: Attributions) -> None:
        patients = sorted({e.patient.split("/", 1)[1] for e in events if e.patient})
        pseudonym_of: dict[str, str] = {}
        async for patient in self.searcher.by_values(
            "Patient", "_id", patients, [], "identifier", _CHUNK
        ):
            value = pseudonym(patient)
            if value:
                pseudonym_of[f"Patient/{patient['id']}"] = value
        people = sorted(set(pseudonym_of.values()))
        tokens = [f"{REGIONAL_PSEUDONYM_SYSTEM}|{p}" for p in people]
        async for patient in self.searcher.by_values(
            "Patient", "identifier", tokens, self.scope, "identifier", _CHUNK
        ):
            value = pseudonym(patient)
            if value:
                pseudonym_of[f"Patient/{patient['id']}"] = value
        self.stats.lookups["patients"] = len(pseudonym_of)
        discharges = await self._discharges(events, pseudonym_of)
        days = self.rules.ha_vte.post_discharge_days
        for event in events:
            person = pseudonym_of.get(event.patient or "")
            diagnosed_on = datetime.fromtimestamp(event.diagnosed, self.tz).date()
            best: tuple[float, str] | None = None
            for ended, encounter in discharges.get(person or "", ()):
                if ended >= event.diagnosed:
                    continue
                if (diagnosed_on - datetime.fromtimestamp(ended, self.tz).date()).days > days:
                    continue
                if best is None or (ended, encounter) > best:
                    best = (ended, encounter)
            if best is None:
                self.stats.unattributed += 1
                continue
            self.stats.post_discharge += 1
            found.setdefault(best[1], []).append(("post-discharge", event.death))

    async def _discharges(
        self, events: list[VteEvent], pseudonym_of: dict[str, str]
    ) -> dict[str, list[tuple[float, str]]]:
        """Discharges (time, Encounter/id) per pseudonym in the window the events can reach back to.

        Searched by subject only: the Patients were already confined to the region, and HAPI
        (H2 at least) plans ``subject`` OR-lists combined with date and class filters very badly
        (seconds instead of milliseconds), while a person has only a handful of stays.
        """
        out: dict[str, list[tuple[float, str]]] = defaultdict(list)
        if not events or not pseudonym_of:
            return out
        days = self.rules.ha_vte.post_discharge_days
        low = min(e.diagnosed for e in events) - (days + 1) * 86400
        high = max(e.diagnosed for e in events)
        subjects = sorted(pseudonym_of)
        async for encounter in self.searcher.by_values(
            "Encounter", "subject", subjects, [], "period,subject", _CHUNK
        ):
            ended = parse_time((encounter.get("period") or {}).get("end"), self.tz)
            person = pseudonym_of.get(reference_id(encounter.get("subject")) or "")
            if ended is not None and person and low <= ended < high:
                out[person].append((ended, f"Encounter/{encounter['id']}"))
        self.stats.lookups["discharges"] = sum(len(v) for v in out.values())
        return out


def pseudonym(patient: dict[str, Any]) -> str | None:
    """The regional pseudonym of a Patient (None when it carries none)."""
    for identifier in patient.get("identifier") or []:
        if identifier.get("system") == REGIONAL_PSEUDONYM_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
