"""The count path: one ``_summary=count`` per population, hospital and stratum, deduplicated.

Region figures are sums over hospitals (hospitals partition the stays), so a count is only ever
asked per hospital — never with a long list of organisations — and per month and department of
that hospital. The departments come from the census (HAPI cannot list distinct values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from facade.fhir.naming import department_code_system
from facade.indicators.criteria import Params
from facade.indicators.joins import base_params, iso
from facade.indicators.periods import Period
from facade.indicators.search import Searcher
from facade.indicators.vocab import DISCHARGE_DATE, DISCHARGE_DEPARTMENT, IMP, Vocabulary

# (criteria signature, "org" | "month" | "dept", org code, month or department code)
CountKey = tuple[tuple[str, ...], str, str, str]


def signature(params: Params) -> tuple[str, ...]:
    """A hashable form of a population's search criteria (equal criteria share their counts)."""
    return tuple(f"{k}={v}" for k, v in params)


def count_queries(
    span: Period,
    criteria: Params,
    orgs: list[str],
    departments: dict[str, set[str | None]],
    vocab: Vocabulary,
) -> list[tuple[CountKey, Params]]:
    """The searches counting one population for every hospital, month and department."""
    key = signature(criteria)
    out: list[tuple[CountKey, Params]] = []
    for org in orgs:
        tag = [("_tag", f"{vocab.tenant_tag}|{org}")]
        out.append(((key, "org", org, ""), [*base_params(span, tag), *criteria]))
        for month in span.months():
            start, end = span.month_range(month)
            params = [
                *tag,
                ("class", IMP),
                (DISCHARGE_DATE.code, f"ge{iso(start)}"),
                (DISCHARGE_DATE.code, f"lt{iso(end)}"),
                *criteria,
            ]
            out.append(((key, "month", org, month), params))
        for dept in sorted(departments.get(org, set()), key=lambda d: d or ""):
            token = (
                (DISCHARGE_DEPARTMENT.code, f"{department_code_system(org)}|{dept}")
                if dept
                else (f"{DISCHARGE_DEPARTMENT.code}:missing", "true")
            )
            out.append(
                ((key, "dept", org, dept or ""), [*base_params(span, tag), token, *criteria])
            )
    return out


async def run_counts(
    searcher: Searcher,
    span: Period,
    populations: Iterable[Params],
    orgs: list[str],
    departments: dict[str, set[str | None]],
    vocab: Vocabulary,
) -> dict[CountKey, int]:
    """Every count needed, each asked once, with the searcher's concurrency bound."""
    wanted: dict[CountKey, Params] = {}
    for criteria in populations:
        for key, params in count_queries(span, criteria, orgs, departments, vocab):
            wanted[key] = params
    keys = list(wanted)
    values = await asyncio.gather(*(searcher.count("Encounter", wanted[k]) for k in keys))
    return dict(zip(keys, values, strict=True))
