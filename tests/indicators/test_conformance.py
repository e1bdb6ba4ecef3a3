"""The Measures in the guide are generated from the YAML, and the guide has the search parameters
the engine searches with (drift tests; rebuild with `vte-facade indicators conformance` + `ig build`)."""

from __future__ import annotations

import json
from pathlib import Path

from facade.dictionary.loader import load_dictionary
from facade.indicators import conformance
from facade.indicators.definitions import load_definitions
from facade.indicators.report import measure_url
from facade.indicators.vocab import SEARCH_PARAMS, Vocabulary

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "profiles" / "fsh-generated" / "resources"


def test_committed_fsh_equals_a_fresh_rendering() -> None:
    definitions = load_definitions(REPO / "mappings" / "indicators")
    vocab = Vocabulary.from_dictionary(load_dictionary(REPO / "mappings"))
    committed = conformance.generated_path(REPO / "profiles").read_text(encoding="utf-8")
    assert committed == conformance.render(definitions, vocab)


def test_the_built_guide_has_one_measure_per_indicator() -> None:
    definitions = load_definitions(REPO / "mappings" / "indicators")
    for indicator in definitions.indicators.values():
        measure = json.loads((BUILT / f"Measure-{indicator.slug}.json").read_text(encoding="utf-8"))
        assert measure["url"] == measure_url(indicator)
        assert measure["identifier"][0]["value"] == indicator.id
        assert measure["scoring"]["coding"][0]["code"] == "proportion"
        populations = [p["code"]["coding"][0]["code"] for p in measure["group"][0]["population"]]
        assert populations == [c.value for c in indicator.codes]
        assert [s["code"]["coding"][0]["code"] for s in measure["group"][0]["stratifier"]] == [
            s.value for s in indicator.stratifiers
        ]


def test_the_built_guide_defines_every_search_parameter_the_engine_uses() -> None:
    built = [
        json.loads(p.read_text(encoding="utf-8")) for p in BUILT.glob("SearchParameter-*.json")
    ]
    by_code = {(sp["code"], sp["base"][0]): sp for sp in built}
    for param in SEARCH_PARAMS:
        found = by_code.get((param.code, param.base))
        assert found is not None, param.code
        assert (found["type"], found["expression"]) == (param.type, param.expression)
