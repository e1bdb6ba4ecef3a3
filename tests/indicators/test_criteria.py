"""Planning (count or join per population) and the join-path tests on a stay's facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from facade.dictionary.loader import load_dictionary
from facade.indicators.criteria import Evaluator, search_form
from facade.indicators.definitions import (
    AppropriateProphylaxis,
    Definitions,
    ProphylaxisGiven,
    RiskBand,
    VteRiskAssessedWithin,
    load_definitions,
)
from facade.indicators.engine import plan_indicator
from facade.indicators.facts import StayFacts
from facade.indicators.vocab import Vocabulary

REPO = Path(__file__).resolve().parents[2]
HOUR = 3600.0
MECH, DRUG = 1, 2  # index into StayFacts.starts (basic, mechanical, pharmacological)


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return load_definitions(REPO / "mappings" / "indicators")


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_dictionary(load_dictionary(REPO / "mappings"))


def methods(definitions: Definitions, vocab: Vocabulary, indicator: str) -> dict[str, str]:
    return {
        p.code: p.method
        for p in plan_indicator(definitions.indicators[indicator], definitions, vocab)
    }


def test_existence_criteria_are_counted_and_the_rest_joined(
    definitions: Definitions, vocab: Vocabulary
) -> None:
    assert methods(definitions, vocab, "A1") == {
        "initial-population": "count",
        "denominator": "count",
        "numerator": "count",
    }
    assert methods(definitions, vocab, "A2")["numerator"] == "count"
    assert methods(definitions, vocab, "A1t")["numerator"] == "join"  # compares two times per stay
    assert methods(definitions, vocab, "B1")["denominator"] == "join"  # band from score bands
    assert methods(definitions, vocab, "C5") == {
        "initial-population": "count",
        "denominator": "count",
        "numerator": "join",
    }
    assert methods(definitions, vocab, "C1")["numerator"] == "join"  # cross-hospital attribution


def test_count_forms_are_has_searches(definitions: Definitions, vocab: Vocabulary) -> None:
    a1 = plan_indicator(definitions.indicators["A1"], definitions, vocab)
    numerator = next(p for p in a1 if p.code == "numerator")
    assert numerator.count_params == [
        ("_has:RiskAssessment:encounter:_profile", vocab.risk_profile)
    ]
    drug = search_form(
        ProphylaxisGiven(kind="prophylaxis-given", category="pharmacological"),
        definitions.rules,
        vocab,
    )
    assert drug == [
        ("_has:MedicationAdministration:context:status", "completed,in-progress,stopped")
    ]
    mechanical = search_form(
        ProphylaxisGiven(kind="prophylaxis-given", category="mechanical"), definitions.rules, vocab
    )
    assert mechanical is None  # executed AND mechanical: two conditions on one Procedure
    negated = search_form(
        ProphylaxisGiven(kind="prophylaxis-given", category="pharmacological", negate=True),
        definitions.rules,
        vocab,
    )
    assert negated is None


def test_reported_bands_make_the_top_bands_countable(
    definitions: Definitions, vocab: Vocabulary
) -> None:
    reported = definitions.rules.model_copy(
        update={"risk": definitions.rules.risk.model_copy(update={"band_source": "reported"})}
    )
    top = search_form(RiskBand(kind="risk-band", bands=["medium", "high"]), reported, vocab)
    assert top == [
        (
            "_has:RiskAssessment:encounter:risk",
            ",".join(f"{vocab.risk_level}|{c}" for c in ("3", "4", "5")),
        )
    ]
    # "highest band is low" is not "some assessment is low": no search form
    assert search_form(RiskBand(kind="risk-band", bands=["low"]), reported, vocab) is None
    assert (
        search_form(RiskBand(kind="risk-band", bands=["medium", "high"]), definitions.rules, vocab)
        is None
    )


def stay(**facts: object) -> StayFacts:
    f = StayFacts("ORG", "0301", "2026-01", admitted=0.0, discharged=200 * HOUR)
    for key, value in facts.items():
        setattr(f, key, value)
    return f


def high_risk(**more: object) -> StayFacts:
    # Caprini (tool 1) high band (index 3) first seen 2 h after admission, bleeding assessed low
    base: dict[str, object] = {
        "first_risk": 2 * HOUR,
        "band": 3,
        "band_tool": "1",
        "band_time": 2 * HOUR,
        "mh_first": 2 * HOUR,
        "bleeding": True,
    }
    return stay(**{**base, **more})


def test_within_hours_is_inclusive(definitions: Definitions) -> None:
    evaluator = Evaluator(definitions.rules)
    within = [VteRiskAssessedWithin(kind="vte-risk-assessed-within", hours=24)]
    assert evaluator.holds(within, stay(first_risk=24 * HOUR))
    assert not evaluator.holds(within, stay(first_risk=24 * HOUR + 1))
    assert not evaluator.holds(within, stay())


def test_appropriate_needs_both_assessments_and_the_matrix_in_time(
    definitions: Definitions,
) -> None:
    evaluator = Evaluator(definitions.rules)
    on_time = [None, None, 26 * HOUR]  # drug exactly 24 h after the first high-risk assessment
    assert evaluator.appropriate(high_risk(starts=on_time))
    assert not evaluator.appropriate(high_risk(starts=[None, None, 26 * HOUR + 1]))
    assert not evaluator.appropriate(
        high_risk(starts=on_time, bleeding=False)
    )  # bleeding never assessed
    assert not evaluator.appropriate(
        high_risk(starts=[None, 3 * HOUR, None])
    )  # Caprini high needs a drug
    # high bleeding risk: mechanical is what the matrix asks for
    assert evaluator.appropriate(high_risk(starts=[None, 3 * HOUR, None], bleeding_high=True))
    assert not evaluator.appropriate(high_risk(starts=[None, None, 3 * HOUR], bleeding_high=True))
    # ... unless it is contraindicated: then nothing beyond the assessments is required
    assert evaluator.appropriate(
        high_risk(starts=[None, None, None], bleeding_high=True, mech_ci=True)
    )


def test_matrix_alternatives_follow_tool_and_band(definitions: Definitions) -> None:
    evaluator = Evaluator(definitions.rules)
    medium = {
        "first_risk": HOUR,
        "band": 2,
        "band_tool": "1",
        "band_time": HOUR,
        "mh_first": HOUR,
        "bleeding": True,
    }
    assert evaluator.appropriate(
        stay(**medium, starts=[None, 5 * HOUR, None])
    )  # Caprini medium: drug OR mechanical
    low_padua = {
        "first_risk": HOUR,
        "band": 1,
        "band_tool": "2",
        "band_time": HOUR,
        "bleeding": True,
    }
    assert evaluator.appropriate(stay(**low_padua))  # Padua low: basic only, nothing required
    low_caprini = {**low_padua, "band_tool": "1"}
    assert not evaluator.appropriate(stay(**low_caprini))  # Caprini low: mechanical required
    assert evaluator.appropriate(
        stay(**low_caprini, starts=[None, 20 * HOUR, None])
    )  # timed from the first assessment
    assert not evaluator.holds(
        [AppropriateProphylaxis(kind="appropriate-prophylaxis", negate=True)], stay(**low_padua)
    )


def test_changing_the_window_in_rules_changes_timeliness(definitions: Definitions) -> None:
    rules = definitions.rules.model_copy(
        update={
            "prophylaxis": definitions.rules.prophylaxis.model_copy(
                update={"start_within_hours": 48.0}
            )
        }
    )
    assert Evaluator(rules).appropriate(high_risk(starts=[None, None, 40 * HOUR]))
    assert not Evaluator(definitions.rules).appropriate(high_risk(starts=[None, None, 40 * HOUR]))
