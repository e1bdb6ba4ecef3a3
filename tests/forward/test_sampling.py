"""Sampled validation of the forwarder's own writes: alarms, the per-minute budget, a real HAPI."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from hapi_kit import birthdate_required_profile
from sqlalchemy import select

from facade.db import Database
from facade.forward.sampling import Budget, Sample, Sampler
from facade.forward.tables import ForwardValidationAlarm
from facade.forward.worker import TRUSTED_WRITE_HEADER
from facade.metrics.registry import VALIDATION_SAMPLES
from facade.settings import Settings
from facade.upstream import UpstreamClient


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def samples(outcome: str) -> float:
    return float(VALIDATION_SAMPLES.labels(outcome)._value.get())


def test_the_budget_allows_its_minute_spread_out_and_banks_no_more() -> None:
    clock = Clock()
    budget = Budget(6, clock)
    assert [budget.take() for _ in range(8)] == [True] * 6 + [False] * 2
    clock.now += 9.0  # 6 a minute: one every 10 s
    assert budget.take() is False
    clock.now += 1.0
    assert [budget.take() for _ in range(2)] == [True, False]
    clock.now += 3600.0  # a quiet hour refills one minute's worth, not sixty
    assert sum(budget.take() for _ in range(100)) == 6


def test_a_take_of_several_tokens_is_paid_for_before_the_next_one() -> None:
    clock = Clock()
    budget = Budget(6, clock)
    assert budget.take(4) is True
    assert budget.take(4) is True  # one token was left: allowed, two tokens owed
    clock.now += 20.0  # two tokens back: the debt is paid, none to spend
    assert budget.take() is False
    clock.now += 10.0
    assert budget.take() is True
    clock.now += 60.0  # a full minute: 6 resources of 3-resource records are 2 records
    assert [budget.take(3) for _ in range(3)] == [True, True, False]


class FakeHapi:
    """Answers reads with the stored resource and ``$validate`` with an outcome per id."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        self.validated: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/fhir/")
        if request.method == "GET":
            kind, _, rid = path.partition("/")
            if rid == "gone":
                return httpx.Response(410, json={"resourceType": "OperationOutcome", "issue": []})
            return httpx.Response(200, json={"resourceType": kind, "id": rid})
        resource = orjson.loads(request.content)
        self.validated.append(resource["id"])
        error = self.errors.get(resource["id"])
        issue: list[dict[str, Any]] = [
            {"severity": "information", "code": "informational", "diagnostics": "ok"}
        ]
        if error:
            issue = [
                {
                    "severity": "error",
                    "code": "structure",
                    "diagnostics": error,
                    "expression": ["Patient.birthDate"],
                }
            ]
        status = 412 if error else 200
        return httpx.Response(status, json={"resourceType": "OperationOutcome", "issue": issue})


def sampler(settings: Settings, database: Database, hapi: FakeHapi, **options: Any) -> Sampler:
    upstream = UpstreamClient(settings, transport=httpx.MockTransport(hapi))
    return Sampler(database, upstream, options.pop("rate", 1.0), **options)


def alarms(database: Database) -> list[tuple[str, str, str]]:
    with database.session() as session:
        rows = session.scalars(select(ForwardValidationAlarm)).all()
        return [(r.receipt_id, r.resource_ref, r.message) for r in rows]


def test_an_invalid_stored_resource_raises_an_alarm_without_its_values(
    settings: Settings, database: Database
) -> None:
    hapi = FakeHapi({"bad": "Patient.birthDate: minimum 1, found '1980-01-02' elsewhere"})
    checker = sampler(settings, database, hapi)
    raised = asyncio.run(checker.check(Sample("r-1", ("Patient/good", "Patient/bad"))))
    assert raised == 1
    assert hapi.validated == ["good", "bad"]
    [(receipt, ref, message)] = alarms(database)
    assert (receipt, ref) == ("r-1", "Patient/bad")
    assert "Patient.birthDate" in message and "1980-01-02" not in message


def test_a_resource_deleted_meanwhile_is_skipped_not_alarmed(
    settings: Settings, database: Database
) -> None:
    hapi = FakeHapi({})
    raised = asyncio.run(sampler(settings, database, hapi).check(Sample("r", ("Patient/gone",))))
    assert raised == 0 and hapi.validated == [] and alarms(database) == []


Offer = tuple[str, list[str]] | float  # a record offered, or seconds passing


def offered(
    settings: Settings, database: Database, per_minute: int, steps: list[Offer]
) -> tuple[list[str], float]:
    """Offer records (and let time pass) in order; the ids checked and the offers over budget."""
    hapi = FakeHapi({})
    clock = Clock()
    checker = sampler(settings, database, hapi, per_minute=per_minute, clock=clock)
    over = samples("over_budget")

    async def offer_all() -> None:
        for step in steps:
            if isinstance(step, float):
                clock.now += step
            else:
                checker.offer(*step)
        await checker.flush()
        await checker.close()

    asyncio.run(offer_all())
    return hapi.validated, samples("over_budget") - over


def test_offers_over_the_budget_are_counted_and_not_checked(
    settings: Settings, database: Database
) -> None:
    steps: list[Offer] = [(f"r-{n}", [f"Patient/p{n}"]) for n in range(5)]
    steps += [30.0, ("r-late", ["Patient/late"])]  # one more token
    assert offered(settings, database, 2, steps) == (["p0", "p1", "late"], 3)


def test_the_budget_counts_the_resources_of_a_sampled_record(
    settings: Settings, database: Database
) -> None:
    steps: list[Offer] = [
        ("stay-1", ["Encounter/e1", "Condition/c1"]),
        ("stay-2", ["Encounter/e2", "Condition/c2"]),  # 1 token left: allowed
        ("stay-3", ["Encounter/e3"]),  # in debt: refused
        20.0,  # one token back pays the debt
        ("stay-4", ["Encounter/e4"]),  # no token to spend: refused
        20.0,
        ("stay-5", ["Encounter/e5"]),
    ]
    assert offered(settings, database, 3, steps) == (["e1", "c1", "e2", "c2", "e5"], 2)


def test_the_rate_picks_a_share_of_records(settings: Settings, database: Database) -> None:
    hapi = FakeHapi({})
    checker = sampler(settings, database, hapi, rate=0.1, per_minute=6000, chooser=random.Random(5))

    async def offer_all() -> None:
        for n in range(2000):
            checker.offer(f"r-{n}", [f"Patient/p{n}"])
            if n % 100 == 99:
                await checker.flush()  # the queue holds 200: keep it from dropping
        await checker.flush()
        await checker.close()

    asyncio.run(offer_all())
    assert 150 <= len(hapi.validated) <= 250  # 10 % of 2,000 = 200, binomial sd ≈ 13


def test_a_sample_waits_while_the_forwarder_writes(settings: Settings, database: Database) -> None:
    hapi = FakeHapi({})
    checker = sampler(settings, database, hapi, clock=time.monotonic)

    async def go() -> tuple[list[str], list[str]]:
        checker.forwarding(True)
        checker.offer("r-1", ["Patient/p1"])
        await asyncio.sleep(0.3)
        during = list(hapi.validated)
        checker.forwarding(False)
        await checker.flush(timeout=5)
        await checker.close()
        return during, hapi.validated

    assert asyncio.run(go()) == ([], ["p1"])


def test_a_sample_is_checked_once_it_has_waited_the_longest_delay(
    settings: Settings, database: Database
) -> None:
    hapi = FakeHapi({})
    checker = sampler(settings, database, hapi, clock=time.monotonic, max_delay=0.2)

    async def go() -> tuple[list[str], float]:
        checker.forwarding(True)  # and it never stops writing
        started = time.monotonic()
        checker.offer("r-1", ["Patient/p1"])
        await checker.flush(timeout=5)
        waited = time.monotonic() - started
        await checker.close()
        return hapi.validated, waited

    checked, waited = asyncio.run(go())
    assert checked == ["p1"]
    assert 0.2 <= waited < 4


@pytest.mark.integration
def test_a_trusted_write_that_breaks_its_profile_raises_an_alarm_in_hapi(
    fhir_base_url: str, settings: Settings, database: Database
) -> None:
    """End to end on the real server: HAPI stores what the trusted-write header lets past its
    validator, and the sampled check is what catches it."""
    live = settings.model_copy(update={"fhir_base_url": fhir_base_url})
    assert live.hapi_trusted_write_key is not None
    trusted = {TRUSTED_WRITE_HEADER: live.hapi_trusted_write_key.get_secret_value()}
    sd_id = f"vte-test-{uuid.uuid4().hex[:16]}"
    url = f"http://example.org/fhir/StructureDefinition/{sd_id}"
    system = f"urn:vte-test:{uuid.uuid4().hex}"

    async def run() -> tuple[int, list[str]]:
        upstream = UpstreamClient(live)
        try:
            await upstream.send_json(
                "POST", "StructureDefinition", birthdate_required_profile(sd_id, url)
            )
            written = []
            for value, extra in (("with", {"birthDate": "1980-01-02"}), ("without", {})):
                patient = {
                    "resourceType": "Patient",
                    "meta": {"profile": [url]},
                    "identifier": [{"system": system, "value": value}],
                    **extra,
                }
                created = await upstream.send_json("POST", "Patient", patient, headers=trusted)
                written.append(f"Patient/{created['id']}")
            checker = Sampler(database, upstream, 1.0)
            return await checker.check(Sample("r-live", tuple(written))), written
        finally:
            await upstream.aclose()

    raised, (_, broken) = asyncio.run(run())
    assert raised == 1
    [(receipt, ref, message)] = alarms(database)
    assert (receipt, ref) == ("r-live", broken)
    assert "birthDate" in message
