"""HAPI's Bulk Data ``$export`` for one cohort: kick-off, polling, output files.

Flow (Bulk Data Access IG): ``GET $export`` with ``Prefer: respond-async``, ``_type`` and one
``_typeFilter`` per type → poll ``Content-Location`` (202 with ``X-Progress``) until 200 and the
manifest → GET each output ``Binary`` as ``application/fhir+ndjson``.

The filters select the stays discharged in the grant's period at the grant's hospitals and the
resources that belong to them (chained on their Encounter's discharge date, as the indicator
joins do): a superset of the cohort the facade then cuts exactly. A ``Group`` of the cohort's
patients with ``Group/<id>/$export`` was the first design, but HAPI 8.8 expands a Group's members with paged ``_include`` loads that grew to 5–7 s per 100
members on the 10,000-stay benchmark, for every exported type: tens of minutes before the first
resource, growing quadratically. The type filters cost one indexed search per type.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from facade.errors import UpstreamError, UpstreamUnavailable
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.indicators.joins import iso
from facade.indicators.periods import Period
from facade.indicators.vocab import DISCHARGE_DATE
from facade.upstream import UpstreamClient

NDJSON = "application/fhir+ndjson"
Progress = Callable[[str], Awaitable[None]]


@dataclass
class ExportRun:
    """One finished export: its manifest outputs and how long HAPI took."""

    outputs: list[tuple[str, str]]  # (resource type, Binary path relative to the FHIR base)
    seconds: float
    polls: int
    errors: list[str] = field(default_factory=list)


def cohort_filters(types: Sequence[str], span: Period, orgs: Sequence[str]) -> list[str]:
    """One ``_typeFilter`` per type: the stays discharged in ``span`` at ``orgs`` (all when
    empty), their Patients, and the resources that name one of them as their encounter."""
    window = [f"ge{iso(span.start)}", f"lt{iso(span.end)}"]
    tag = (
        ("_tag=" + quote(",".join(f"{REPORTING_ORG_TAG}|{o}" for o in orgs), safe=""))
        if orgs
        else ""
    )
    filters = []
    for rtype in types:
        if rtype == "Patient":
            # _has twice would be two independent conditions; one bound is enough for a superset
            terms = [f"_has:Encounter:patient:{DISCHARGE_DATE.code}={quote(window[0], safe='')}"]
        elif rtype == "Encounter":
            terms = [f"{DISCHARGE_DATE.code}={quote(w, safe='')}" for w in window]
        else:
            link = "context:Encounter" if rtype == "MedicationAdministration" else "encounter"
            terms = [f"{link}.{DISCHARGE_DATE.code}={quote(w, safe='')}" for w in window]
        filters.append(f"{rtype}?" + "&".join([*terms, *([tag] if tag else [])]))
    return filters


async def export(
    upstream: UpstreamClient,
    path: str,
    params: dict[str, str | list[str]],
    *,
    poll_seconds: float,
    timeout_seconds: float,
    progress: Progress | None = None,
) -> ExportRun:
    """Kick off ``path`` (``$export``, ``Patient/$export`` or ``Group/<id>/$export``) and wait
    for its manifest."""
    started = time.perf_counter()
    kick = await upstream.request(
        "GET",
        path,
        params=params,
        headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
    )
    status_url = kick.headers.get("Content-Location")
    if kick.status_code != 202 or not status_url:
        raise UpstreamError(f"$export kick-off answered {kick.status_code} without a status URL")
    status = relative(upstream, status_url)
    polls = 0
    deadline = time.monotonic() + timeout_seconds
    while True:
        polls += 1
        answer = await upstream.request("GET", status)
        if answer.status_code == 200:
            manifest: dict[str, Any] = orjson.loads(answer.content)
            break
        if progress is not None:
            await progress(answer.headers.get("X-Progress", "export in progress"))
        if time.monotonic() > deadline:
            raise UpstreamUnavailable(f"$export did not finish within {timeout_seconds:.0f} s")
        await asyncio.sleep(poll_seconds)
    outputs = [
        (str(item["type"]), relative(upstream, str(item["url"])))
        for item in manifest.get("output") or []
    ]
    errors = [str(item.get("url")) for item in manifest.get("error") or []]
    return ExportRun(outputs, time.perf_counter() - started, polls, errors)


async def lines(upstream: UpstreamClient, binary_path: str) -> AsyncIterator[bytes]:
    """The NDJSON lines of one output file (HAPI caps each file, so one GET holds one file)."""
    response = await upstream.request("GET", binary_path, headers={"Accept": NDJSON})
    for line in response.content.splitlines():
        if line.strip():
            yield line


def relative(upstream: UpstreamClient, url: str) -> str:
    """A URL HAPI gave us, relative to the FHIR base when it is on the same server."""
    base = upstream.base_url.rstrip("/") + "/"
    if url.startswith(base):
        return url[len(base) :]
    marker = "/fhir/"
    return url.split(marker, 1)[1] if marker in url else url
