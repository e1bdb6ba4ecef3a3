"""Attribution of VTE events to stays, on FHIR resources served by a small in-memory searcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from facade.dictionary.loader import load_dictionary
from facade.fhir.naming import REGIONAL_PSEUDONYM_SYSTEM, REPORTING_ORG_TAG
from facade.indicators.attribution import Attributor
from facade.indicators.definitions import load_definitions
from facade.indicators.periods import parse_period
from facade.indicators.vocab import Vocabulary

REPO = Path(__file__).resolve().parents[2]
RULES = load_definitions(REPO / "mappings" / "indicators").rules
VOCAB = Vocabulary.from_dictionary(load_dictionary(REPO / "mappings"))
CST = timezone(timedelta(hours=8))
Q1 = parse_period("2026-Q1", CST)


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=CST).isoformat()


class Store:
    """Just enough FHIR search for the attributor: the parameters it sends, on plain dicts."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.resources.append(resource)
        return resource

    def get(self, ref: str) -> dict[str, Any]:
        rtype, rid = ref.split("/")
        return next(r for r in self.resources if r["resourceType"] == rtype and r["id"] == rid)

    def matches(self, resource: dict[str, Any], name: str, value: str) -> bool:
        options = value.split(",")
        if name == "_tag":
            tags = {f"{t['system']}|{t['code']}" for t in resource.get("meta", {}).get("tag", [])}
            return bool(tags & set(options))
        if name == "_profile":
            return value in resource.get("meta", {}).get("profile", [])
        if name == "_id":
            return resource["id"] in options
        if name == "identifier":
            return any(
                f"{i['system']}|{i['value']}" in options for i in resource.get("identifier", [])
            )
        if name == "subject":
            return resource.get("subject", {}).get("reference") in options
        if name in ("recorded-date", "encounter.vte-discharge-date"):
            if name == "recorded-date":
                moment = resource["recordedDate"]
            else:
                moment = self.get(resource["encounter"]["reference"])["period"].get("end")
            if moment is None:
                return False
            when, bound = datetime.fromisoformat(moment), datetime.fromisoformat(value[2:])
            return {"gt": when > bound, "ge": when >= bound, "lt": when < bound}[value[:2]]
        raise AssertionError(f"unexpected search parameter {name}")

    async def stream(
        self, rtype: str, params: Sequence[tuple[str, str]], elements: str
    ) -> AsyncIterator[dict[str, Any]]:
        for resource in self.resources:
            if resource["resourceType"] == rtype and all(
                self.matches(resource, k, v) for k, v in params
            ):
                yield resource

    async def by_values(
        self,
        rtype: str,
        name: str,
        values: list[str],
        params: Sequence[tuple[str, str]],
        elements: str,
        chunk: int,
    ) -> AsyncIterator[dict[str, Any]]:
        if values:
            async for resource in self.stream(rtype, [*params, (name, ",".join(values))], elements):
                yield resource


class Region:
    def __init__(self) -> None:
        self.store = Store()
        self.stays: list[str] = []
        self.n = 0

    def patient(self, org: str, person: str) -> str:
        self.n += 1
        self.store.add(
            {
                "resourceType": "Patient",
                "id": f"p{self.n}",
                "meta": {"tag": [{"system": REPORTING_ORG_TAG, "code": org}]},
                "identifier": [{"system": REGIONAL_PSEUDONYM_SYSTEM, "value": person}],
            }
        )
        return f"Patient/p{self.n}"

    def stay(self, org: str, patient: str, admitted: str, discharged: str) -> str:
        self.n += 1
        ref = f"Encounter/e{self.n}"
        self.store.add(
            {
                "resourceType": "Encounter",
                "id": f"e{self.n}",
                "subject": {"reference": patient},
                "meta": {"tag": [{"system": REPORTING_ORG_TAG, "code": org}]},
                "period": {"start": at(admitted), "end": at(discharged)},
            }
        )
        self.stays.append(ref)
        return ref

    def event(
        self, org: str, encounter: str, patient: str, diagnosed: str, poa: str, death: bool = False
    ) -> None:
        self.n += 1
        self.store.add(
            {
                "resourceType": "Condition",
                "id": f"c{self.n}",
                "subject": {"reference": patient},
                "encounter": {"reference": encounter},
                "recordedDate": at(diagnosed),
                "meta": {
                    "profile": [VOCAB.event_profile],
                    "tag": [{"system": REPORTING_ORG_TAG, "code": org}],
                },
                "extension": [
                    {"url": VOCAB.extension("present-on-admission"), "valueCoding": {"code": poa}},
                    {"url": VOCAB.extension("vte-related-death"), "valueBoolean": death},
                ],
            }
        )

    def attribute(self, orgs: list[str]) -> dict[str, list[tuple[str, bool]]]:
        scope = [("_tag", ",".join(f"{REPORTING_ORG_TAG}|{o}" for o in orgs))]
        attributor = Attributor(self.store, RULES, VOCAB, scope)  # type: ignore[arg-type]
        found = asyncio.run(attributor.attribute(Q1))
        return {ref: found.get(ref, []) for ref in self.stays}


@pytest.mark.parametrize(
    ("diagnosed", "counted"),
    [
        ("2026-04-10 23:30:00", True),  # day 90, later in the day than the discharge: still day 90
        ("2026-04-11 00:30:00", False),  # day 91
    ],
)
def test_ninety_calendar_days_across_hospitals(diagnosed: str, counted: bool) -> None:
    r = Region()
    at_a = r.patient("A", "person-1")
    index = r.stay("A", at_a, "2026-01-03 09:00:00", "2026-01-10 15:00:00")
    at_b = r.patient("B", "person-1")
    again = r.stay("B", at_b, diagnosed[:10] + " 00:05:00", "2026-04-20 09:00:00")
    r.event("B", again, at_b, diagnosed, "1")
    found = r.attribute(["A", "B"])
    assert found[index] == ([("post-discharge", False)] if counted else [])


def test_in_hospital_onset_stays_with_its_own_stay_even_after_a_recent_discharge() -> None:
    r = Region()
    at_a, at_b = r.patient("A", "p"), r.patient("B", "p")
    first = r.stay("A", at_a, "2026-01-01 08:00:00", "2026-01-05 08:00:00")
    second = r.stay("B", at_b, "2026-01-05 10:00:00", "2026-01-20 08:00:00")
    r.event(
        "B", second, at_b, "2026-01-07 10:00:00", "4", death=True
    )  # 48 h after admission, not present
    r.event("B", second, at_b, "2026-01-06 08:00:00", "4")  # only 22 h: looks back to A
    found = r.attribute(["A", "B"])
    assert found[second] == [("in-hospital", True)]
    assert found[first] == [("post-discharge", False)]


def test_most_recent_discharge_in_scope_wins_and_scope_limits_the_look_back() -> None:
    r = Region()
    at_a, at_c, at_b = r.patient("A", "q"), r.patient("C", "q"), r.patient("B", "q")
    older = r.stay("A", at_a, "2026-01-02 08:00:00", "2026-01-05 08:00:00")
    newer = r.stay("C", at_c, "2026-02-15 08:00:00", "2026-02-20 08:00:00")
    readmit = r.stay("B", at_b, "2026-03-01 08:00:00", "2026-03-05 08:00:00")
    r.event("B", readmit, at_b, "2026-03-01 09:00:00", "1")
    everyone = r.attribute(["A", "B", "C"])
    assert (everyone[older], everyone[newer], everyone[readmit]) == (
        [],
        [("post-discharge", False)],
        [],
    )
    without_c = r.attribute(["A", "B"])
    assert without_c[older] == [("post-discharge", False)]


def test_present_on_admission_without_earlier_stay_belongs_to_nobody() -> None:
    r = Region()
    patient = r.patient("A", "solo")
    stay = r.stay("A", patient, "2026-02-01 08:00:00", "2026-02-09 08:00:00")
    r.event("A", stay, patient, "2026-02-01 10:00:00", "1")
    assert r.attribute(["A"])[stay] == []
