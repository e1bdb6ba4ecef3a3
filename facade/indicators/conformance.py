"""Render the indicators' conformance resources as FSH: one Measure per indicator, the stratifier
CodeSystem and the discharge-date search parameter the engine relies on.

The YAML definitions stay the single source: ``vte-facade indicators conformance`` (or
``python -m facade.indicators.conformance``) rewrites ``profiles/input/fsh/indicators.generated.fsh``,
then the guide's own build (``vte-facade ig build``) turns it into JSON with SUSHI. A test fails
when the committed file differs from a fresh rendering.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from facade.fhir.naming import CANONICAL, REPORTING_ORG_TAG
from facade.indicators.definitions import Definitions, Indicator, load_definitions
from facade.indicators.engine import PopulationPlan, plan_indicator
from facade.indicators.report import INDICATOR_IDENTIFIER_SYSTEM, STRATIFIER_NAMES, measure_url
from facade.indicators.vocab import DISCHARGE_DATE, IMP, OWN_SEARCH_PARAMS, Vocabulary

GENERATED_NAME = "indicators.generated.fsh"
PUBLISHER = "区域VTE质控平台 (regional VTE quality-control platform)"
SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring#proportion"
MEASURE_TYPE = "http://terminology.hl7.org/CodeSystem/measure-type"
IMPROVEMENT = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
# Language of a join-path population's criteria: the definition's own YAML criteria, as JSON.
CRITERIA_LANGUAGE = "text/x-vte-indicator-criteria"
STRATIFIER_DEFINITIONS = {
    "hospital": "The reporting institution (unified social credit code) that discharged the patient.",
    "discharge-department": "The hospital-local department of discharge (出院科室).",
    "discharge-month": "The calendar month (reporting time zone) of the discharge date-time.",
    "child-region": "The child region (administrative division code) that reported the stay; only in a parent platform's area reports.",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _camel(slug: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", slug))


def count_expression(plan: PopulationPlan) -> str:
    """The count search of a population, with the period and hospital left as placeholders."""
    if plan.count_params is None:
        raise ValueError(f"population {plan.code} is joined, not counted")
    params = [
        ("_tag", f"{REPORTING_ORG_TAG}|{{org}}"),
        ("class", IMP),
        (DISCHARGE_DATE.code, "ge{periodStart}"),
        (DISCHARGE_DATE.code, "lt{periodEnd}"),
        *plan.count_params,
        ("_summary", "count"),
    ]
    return "Encounter?" + "&".join(f"{k}={v}" for k, v in params)


def join_expression(plan: PopulationPlan) -> str:
    """The criteria a joined population applies to each stay discharged in the period."""
    parts = [c.model_dump_json(exclude_defaults=True) for c in plan.criteria]
    if plan.excluded_by:
        parts.append(
            '{"not":['
            + ",".join(c.model_dump_json(exclude_defaults=True) for c in plan.excluded_by)
            + "]}"
        )
    return "[" + ",".join(parts) + "]"


def render(definitions: Definitions, vocab: Vocabulary) -> str:
    """The whole generated FSH file."""
    out = [
        "// GENERATED from mappings/indicators by `vte-facade indicators conformance`",
        "// (facade/indicators/conformance.py). Do not edit: change the YAML and regenerate.",
        "",
        "CodeSystem: IndicatorStratifier",
        "Id: indicator-stratifier",
        'Title: "VTE indicator stratifiers"',
        'Description: "How the VTE indicator MeasureReports are stratified."',
        "* ^status = #active",
        "* ^experimental = false",
        "* ^caseSensitive = true",
    ]
    for code, name in STRATIFIER_NAMES.items():
        out.append(f"* #{code} {_quote(name)} {_quote(STRATIFIER_DEFINITIONS[code])}")
    for param in OWN_SEARCH_PARAMS:
        rid = param.code
        out += [
            "",
            f"Instance: {rid}",
            "InstanceOf: SearchParameter",
            "Usage: #definition",
            f"Title: {_quote(param.title)}",
            f"* url = {_quote(param.url)}",
            f"* name = {_quote(_camel(rid))}",
            "* status = #active",
            "* experimental = false",
            f"* publisher = {_quote(PUBLISHER)}",
            f"* description = {_quote(param.description)}",
            f"* code = #{param.code}",
            f"* base[0] = #{param.base}",
            f"* type = #{param.type}",
            f"* expression = {_quote(param.expression)}",
        ]
    for indicator in definitions.indicators.values():
        out += ["", *_measure(indicator, plan_indicator(indicator, definitions, vocab))]
    return "\n".join(out) + "\n"


def _measure(indicator: Indicator, plans: list[PopulationPlan]) -> list[str]:
    kind = "outcome" if indicator.category == "outcome" else "process"
    lines = [
        f"Instance: {indicator.slug}",
        "InstanceOf: Measure",
        "Usage: #definition",
        f"Title: {_quote(f'{indicator.id} {indicator.name.zh} ({indicator.name.en})')}",
        f"* url = {_quote(measure_url(indicator))}",
        f"* identifier[0].system = {_quote(INDICATOR_IDENTIFIER_SYSTEM)}",
        f"* identifier[0].value = {_quote(indicator.id)}",
        f"* version = {_quote(str(indicator.version))}",
        f"* name = {_quote(_camel(indicator.slug))}",
        f"* title = {_quote(indicator.name.zh)}",
        f"* subtitle = {_quote(indicator.name.en)}",
        "* status = #active",
        "* experimental = false",
        f"* publisher = {_quote(PUBLISHER)}",
        f"* description = {_quote(indicator.definition.zh + ' / ' + indicator.definition.en)}",
        f"* guidance = {_quote(f'{indicator.formula.zh} / {indicator.formula.en}. Evidence: {indicator.evidence}. Counted per inpatient stay (人次) by discharge date-time in the period.')}",
        f"* scoring = {SCORING}",
        f"* type[0] = {MEASURE_TYPE}#{kind}",
        f"* improvementNotation = {IMPROVEMENT}#{indicator.improvement}",
        f"* group[0].id = {_quote(indicator.id)}",
    ]
    for index, plan in enumerate(plans):
        population = indicator.populations[next(c for c in indicator.codes if c.value == plan.code)]
        prefix = f"* group[0].population[{index}]"
        if plan.count_params is not None:
            language, expression = "application/x-fhir-query", count_expression(plan)
        else:
            language, expression = CRITERIA_LANGUAGE, join_expression(plan)
        lines += [
            f"{prefix}.id = {_quote(plan.code)}",
            f"{prefix}.code = {POPULATION}#{plan.code}",
            f"{prefix}.description = {_quote(population.description.zh + ' / ' + population.description.en)}",
            f"{prefix}.criteria.language = #{language}",
            f"{prefix}.criteria.expression = {_quote(expression)}",
        ]
    for index, stratifier in enumerate(indicator.stratifiers):
        prefix = f"* group[0].stratifier[{index}]"
        lines += [
            f"{prefix}.id = {_quote(stratifier.value)}",
            f"{prefix}.code = {CANONICAL}/CodeSystem/indicator-stratifier#{stratifier.value}",
            f"{prefix}.description = {_quote(STRATIFIER_DEFINITIONS[stratifier.value])}",
        ]
    return lines


def generated_path(profiles_dir: Path) -> Path:
    """Where the generated FSH lives."""
    return profiles_dir / "input" / "fsh" / GENERATED_NAME


def main() -> None:
    """Rewrite the generated FSH from the default settings' directories."""
    from facade.dictionary.loader import load_dictionary
    from facade.settings import Settings

    settings = Settings()
    definitions = load_definitions(settings.mappings_dir / "indicators")
    vocab = Vocabulary.from_dictionary(load_dictionary(settings.mappings_dir))
    path = generated_path(settings.profiles_dir)
    path.write_text(render(definitions, vocab), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
