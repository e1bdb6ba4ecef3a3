"""Cross-region linking, the submission checks and the key rules, without a server."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from facade.db import Database
from facade.errors import InvalidInput
from facade.indicators.definitions import load_definitions
from facade.indicators.periods import parse_period
from facade.network.benchmarks import beside, position, stored_benchmark
from facade.network.keys import linkage_check, province_pseudonym, stay_token, stored_person
from facade.network.linkage import (
    LinkageDischarge,
    LinkageEvent,
    LinkageSubmission,
    link,
    linked_populations,
)
from facade.network.submit import parse_submission
from facade.network.tables import UplinkBenchmark

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = load_definitions(REPO / "mappings" / "indicators")
RULES = DEFINITIONS.rules
SPAN = parse_period("2026-Q1", RULES.tz)
KEY = bytes(range(32))


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=RULES.tz)  # type: ignore[misc]


def _part(
    region: str, discharges: list[tuple[str, str, datetime]], events: list[tuple[str, datetime]]
) -> LinkageSubmission:
    return LinkageSubmission(
        region=region,
        period=SPAN.label,
        key_check=linkage_check(KEY),
        events=[LinkageEvent(person=p, diagnosed=d, death=False) for p, d in events],
        discharges=[LinkageDischarge(stay=s, person=p, discharged=d) for s, p, d in discharges],
        stays=[],
    )


def test_an_event_in_one_city_belongs_to_the_latest_discharge_in_any_city() -> None:
    alice = province_pseudonym("01", "110101199003071234", KEY)
    bob = province_pseudonym("01", "110101199003075678", KEY)
    a1, a2, b1 = (stay_token(f"Encounter/{n}", KEY) for n in ("a1", "a2", "b1"))
    city_a = _part(
        "330100",
        [(a1, alice, _at(2026, 1, 5, 10)), (a2, bob, _at(2026, 1, 10, 15))],
        [],
    )
    # Alice: discharged again in B on 20 Jan, VTE diagnosed in B on 9 Feb -> B's stay, not A's.
    # Bob: VTE diagnosed in B on day 91 after his discharge from A -> nobody's.
    city_b = _part(
        "330200",
        [(b1, alice, _at(2026, 1, 20, 9))],
        [(alice, _at(2026, 2, 9, 10)), (bob, _at(2026, 1, 10, 15) + timedelta(days=91))],
    )
    linkage = link({"330100": city_a, "330200": city_b}, SPAN, RULES)
    assert linkage.attributed == {"330100": [], "330200": [b1]}
    # B has not sent the stay's details yet: its answer is incomplete until it does.
    assert linkage.missing["330200"] == [b1]
    assert not linkage.complete("330200", linkage.versions["330200"])
    assert linkage.complete("330100", linkage.versions["330100"])


def test_the_province_pseudonym_depends_on_the_linkage_key_only() -> None:
    one = province_pseudonym("01", "110101199003071234", KEY)
    assert one == province_pseudonym("01", " 110101199003071234 ".strip(), KEY)
    assert one != province_pseudonym("01", "110101199003071234", bytes(32))
    # the parent keeps a re-keyed value, never the one computed under the distributed key
    assert stored_person(one, b"parent-key") != one
    assert linkage_check(KEY) != linkage_check(bytes(32))


def test_every_linked_population_holds_a_positive_ha_criterion() -> None:
    linked = linked_populations(DEFINITIONS)
    assert linked, "the C indicators need the cross-region attribution"
    assert all(lp.linked for lp in linked)


def test_a_submission_without_every_indicator_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_submission({"resourceType": "Parameters", "parameter": []}, DEFINITIONS)
    assert caught.value.issues[0].location == "Parameters.parameter"
    with pytest.raises(InvalidInput) as caught:
        parse_submission(
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "measureReport", "resource": {"resourceType": "Patient"}}],
            },
            DEFINITIONS,
        )
    assert [i.rule for i in caught.value.issues] == ["measure-report"]


def test_our_value_is_placed_among_the_bands() -> None:
    bands = {"p25": 0.5, "p50": 0.7, "p75": 0.9}
    assert [position(v, bands) for v in (0.4, 0.6, 0.8, 0.95)] == [
        "below-p25",
        "p25-p50",
        "p50-p75",
        "above-p75",
    ]
    rows = beside(
        {"A1": 0.8},
        {"period": "2026-Q1", "indicators": [{"id": "A1", "value": 0.7, "bands": bands}]},
    )
    assert rows[0]["position"] == "p50-p75" and rows[0]["ours"] == 0.8


def test_the_console_reads_the_last_fetched_benchmark_in_percent(database: Database) -> None:
    assert stored_benchmark(database, "2026-Q1", "A1") is None
    body = {
        "period": "2026-Q1",
        "status": "complete",
        "indicators": [
            {"id": "A1", "value": 0.8125, "bands": {"p25": 0.5, "p50": 0.75, "p75": 0.9}}
        ],
    }
    with database.session() as session:
        session.add(UplinkBenchmark(period="2026-Q1", body=orjson.dumps(body).decode()))
    shown = stored_benchmark(database, "2026-Q1", "A1")
    assert shown is not None
    assert shown["value"] == 81.25 and shown["bands"] == {"p25": 50.0, "p50": 75.0, "p75": 90.0}
    assert stored_benchmark(database, "2026-Q1", "B1") is None
