"""The join path: the census of stays discharged in the period, and the dependent resources the
criteria need, streamed with ``_elements`` and folded into each stay's facts.

Dependent resources are found by chained search on their stay's discharge date
(``encounter.vte-discharge-date``), so only resources of stays in the census are read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from facade.indicators.criteria import Params
from facade.indicators.definitions import Criterion, DischargeDiagnosis
from facade.indicators.facts import FactReader, StayFacts, reference_id
from facade.indicators.periods import Period, month_of
from facade.indicators.search import Searcher
from facade.indicators.vocab import DISCHARGE_DATE, IMP, PRESENT_ON_ADMISSION, Vocabulary

CENSUS_ELEMENTS = "period,subject,extension,meta"
# Ids OR-ed into one search parameter when stays are read by id (URLs stay short).
ID_CHUNK = 40


def iso(moment: datetime) -> str:
    """A FHIR search date-time (second precision, with offset)."""
    return moment.isoformat(timespec="seconds")


def base_params(span: Period, scope: Params) -> list[tuple[str, str]]:
    """Inpatient stays discharged in the period (the common base of every population)."""
    return [
        *scope,
        ("class", IMP),
        (DISCHARGE_DATE.code, f"ge{iso(span.start)}"),
        (DISCHARGE_DATE.code, f"lt{iso(span.end)}"),
    ]


async def census(
    searcher: Searcher, span: Period, scope: Params, reader: FactReader, tz: timezone
) -> dict[str, StayFacts]:
    """Facts of every stay discharged in the period, keyed ``Encounter/<id>``."""

    def month(epoch: float) -> str:
        return month_of(datetime.fromtimestamp(epoch, tz), tz)

    found: dict[str, StayFacts] = {}
    async for encounter in searcher.stream("Encounter", base_params(span, scope), CENSUS_ELEMENTS):
        facts = reader.stay(encounter, month)
        # HAPI's date search is inclusive at second precision; the period is half-open.
        if facts is not None and span.start.timestamp() <= facts.discharged < span.end.timestamp():
            found[f"Encounter/{encounter['id']}"] = facts
    return found


def departments(stays: dict[str, StayFacts]) -> dict[str, set[str | None]]:
    """Discharge departments seen per hospital."""
    out: dict[str, set[str | None]] = {}
    for facts in stays.values():
        out.setdefault(facts.org, set()).add(facts.dept)
    return out


async def stream_facts(
    searcher: Searcher,
    span: Period,
    scope: Params,
    streams: set[str],
    census: dict[str, StayFacts],
    criteria: list[Criterion],
    vocab: Vocabulary,
    reader: FactReader,
    *,
    encounters: list[str] | None = None,
) -> None:
    """Stream each needed kind of dependent resource (concurrently) into the census facts.

    By default the resources of every stay discharged in the period are found by chained search;
    with ``encounters`` (Encounter ids) only theirs are read, by ``encounter=``/``context=``
    lists in chunks (the incremental refresh re-reads a few stays this way).
    """
    chain = [
        (f"encounter.{DISCHARGE_DATE.code}", f"ge{iso(span.start)}"),
        (f"encounter.{DISCHARGE_DATE.code}", f"lt{iso(span.end)}"),
    ]
    context_chain = [(f"context:Encounter.{DISCHARGE_DATE.code}", v) for _, v in chain]
    v, r = vocab, reader
    poa_codes = sorted(
        {
            code
            for c in criteria
            if isinstance(c, DischargeDiagnosis)
            for code in c.present_on_admission
        }
    )
    jobs: dict[str, tuple[str, list[tuple[str, str]], str, str, Any]] = {
        "risk": (
            "RiskAssessment",
            [("_profile", v.risk_profile), *chain],
            "encounter,occurrence,method,prediction,extension",
            "encounter",
            r.risk,
        ),
        "bleeding": (
            "RiskAssessment",
            [("_profile", v.bleeding_profile), *chain],
            "encounter,prediction",
            "encounter",
            r.bleeding,
        ),
        "mechanical-check": (
            "Observation",
            [("code", f"{v.assessment_type}|mech-contraindication"), *chain],
            "encounter,value",
            "encounter",
            r.mechanical_check,
        ),
        "procedure-measures": (
            "Procedure",
            [
                ("category", ",".join(f"{v.prophylaxis_category}|{c}" for c in ("1", "2"))),
                *chain,
            ],
            "encounter,category,status,performed",
            "encounter",
            r.measure,
        ),
        "drug-measures": (
            "MedicationAdministration",
            context_chain,
            "context,category,status,effective",
            "context",
            r.measure,
        ),
        "operations": (
            "Procedure",
            [("code", f"{v.icd9}|"), *chain],
            "encounter",
            "encounter",
            r.operation,
        ),
        "diagnoses": (
            "Condition",
            [
                ("_profile", v.diagnosis_profile),
                (
                    PRESENT_ON_ADMISSION.code,
                    ",".join(f"{v.admission_condition}|{c}" for c in poa_codes),
                ),
                *chain,
            ],
            "encounter,code,extension",
            "encounter",
            r.diagnosis,
        ),
    }

    linked = {*chain, *context_chain}

    async def run(name: str) -> None:
        rtype, params, elements, link, fold = jobs[name]
        if encounters is None:
            found = searcher.stream(rtype, [*scope, *params], elements)
        else:
            own = [p for p in params if p not in linked]
            found = searcher.by_values(rtype, link, encounters, [*scope, *own], elements, ID_CHUNK)
        async for resource in found:
            facts = census.get(reference_id(resource.get(link)) or "")
            if facts is not None:
                fold(facts, resource)

    await asyncio.gather(*(run(name) for name in sorted(streams) if name in jobs))
