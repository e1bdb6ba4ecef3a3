"""The stay ledger without HAPI: rows in, figures out (equal to the ground truth's own tally),
patches by stay, history entries placed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from facade.db import Database
from facade.errors import Conflict
from facade.indicators.changes import entry_reference
from facade.indicators.incremental import LedgerRefresher, seed_too_old
from facade.indicators.ledger import Header, StayRow
from facade.indicators.periods import parse_period
from facade.indicators.results import Tally
from facade.indicators.service import engine
from facade.settings import Settings
from facade.upstream import UpstreamClient

PERIOD = "2026-Q1"


def _rows(refresher: LedgerRefresher, count: int) -> tuple[list[StayRow], dict[str, Tally]]:
    """Random stays with random nested memberships, and the same stays in results.Tally."""
    rng = random.Random(7)
    tallies = {
        i.id: Tally(
            [c.value for c in i.codes],
            [s.value for s in i.stratifiers],
            ["H1", "H2", "H3"],
        )
        for i in refresher.indicators
    }
    rows = []
    for n in range(count):
        org = rng.choice(["H1", "H2", "H3"])
        dept = rng.choice(["0101", "0201", None])
        month = rng.choice(["2026-01", "2026-02", "2026-03"])
        digits = ""
        for indicator in refresher.indicators:
            codes = [c.value for c in indicator.codes]
            depth = rng.randrange(len(codes) + 1)  # populations nest: a prefix of the codes
            members = codes[:depth]
            tallies[indicator.id].add(org, dept, month, members)
            digits += format(sum(1 << codes.index(c) for c in members), "x")
        rows.append(StayRow(f"Encounter/{n}", f"Patient/{n % 40}", org, dept, month, digits))
    return rows, tallies


def test_figures_summed_from_the_ledger_equal_a_tally_of_the_same_stays(
    settings: Settings, database: Database
) -> None:
    refresher = LedgerRefresher(engine(settings, UpstreamClient(settings)), database)
    span = parse_period(PERIOD, refresher.engine.definitions.rules.tz)
    rows, tallies = _rows(refresher, 400)
    key = "2026-Q1|region"
    ids = [i.id for i in refresher.indicators]
    header = Header(key, refresher.fingerprint, ids, datetime(2026, 4, 1, tzinfo=UTC), 0)
    assert refresher.store.replace(key, PERIOD, "region", header, rows) == 400
    evaluation = refresher.aggregate(span, ["H1", "H2", "H3", "H4"], key)
    for indicator_id, tally in tallies.items():
        expected = tally.result(indicator_id, PERIOD).as_dict()
        expected["orgs"]["H4"] = {
            "populations": dict.fromkeys(sorted(expected["region"]["populations"]), 0),
            "strata": {},
        }
        assert evaluation.results[indicator_id].as_dict() == expected, indicator_id
    assert evaluation.orgs == ["H1", "H2", "H3", "H4"]

    # a patch replaces the stays re-read, drops the stays gone, moves the watermark
    assert refresher.store.patients_of(key, ["Encounter/1", "Encounter/999"]) == {
        "Encounter/1": "Patient/1"
    }
    assert refresher.store.stays_of(key, ["Patient/1"]) == {
        f"Encounter/{n}" for n in range(400) if n % 40 == 1
    }
    moved = StayRow("Encounter/1", "Patient/1", "H4", None, "2026-02", "0" * len(ids))
    later = datetime(2026, 4, 2, 8, tzinfo=timezone(timedelta(hours=8)))  # HAPI's zone may differ
    first = header.watermark
    assert (
        refresher.store.patch(key, first, later, [moved], ["Encounter/41", "Encounter/4000"]) == 399
    )
    with pytest.raises(Conflict, match="refreshed or reseeded by another run"):
        refresher.store.patch(key, first, later, [], ["Encounter/2"])  # started from the old one
    stored = refresher.store.header(key)
    assert stored is not None and stored.watermark == later and stored.stays == 399
    assert refresher.store.stays_of(key, ["Patient/1"]) == {
        f"Encounter/{n}" for n in range(400) if n % 40 == 1 and n != 41
    }
    assert "Encounter/2" in refresher.store.stays_of(key, ["Patient/2"])  # the refused patch
    assert refresher.aggregate(span, None, key).orgs == ["H1", "H2", "H3", "H4"]


def test_history_entries_are_placed_by_resource_request_or_full_url() -> None:
    assert entry_reference({"resource": {"resourceType": "Encounter", "id": "7"}}) == "Encounter/7"
    deleted = {"request": {"method": "DELETE", "url": "RiskAssessment/9/_history/3"}}
    assert entry_reference(deleted) == "RiskAssessment/9"
    assert entry_reference({"fullUrl": "http://h/fhir/Condition/5/_history/2"}) == "Condition/5"
    assert entry_reference({}) is None


def test_a_ledger_past_its_reseed_age_asks_for_a_full_pass() -> None:
    seeded = datetime(2026, 3, 1, tzinfo=UTC)
    week = timedelta(hours=168)
    assert seed_too_old(seeded, seeded + week, week) is None
    reason = seed_too_old(seeded, seeded + week + timedelta(seconds=1), week)
    assert reason is not None and "168 h" in reason
    assert seed_too_old(seeded, seeded + 10 * week, None) is None  # no limit configured
