"""HAPI's Bulk Data ``$export`` for one cohort: a Group of its patients, kick-off, polling, files.

Flow (Bulk Data Access IG): POST a ``Group`` (actual, one member per patient) → ``GET
Group/<id>/$export`` with ``Prefer: respond-async`` → poll ``Content-Location`` (202 with
``X-Progress``) until 200 and the manifest → GET each output ``Binary`` as
``application/fhir+ndjson``. The Group stays in HAPI as the record of who was exported (HAPI is
never exposed; no role reads Group through the facade).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from facade.errors import UpstreamError, UpstreamUnavailable
from facade.fhir.naming import CANONICAL
from facade.upstream import UpstreamClient

EXTRACT_SYSTEM = f"{CANONICAL}/sid/research-extract"
NDJSON = "application/fhir+ndjson"
Progress = Callable[[str], Awaitable[None]]


@dataclass
class ExportRun:
    """One finished export: its manifest outputs and how long HAPI took."""

    group_id: str | None
    outputs: list[tuple[str, str]]  # (resource type, Binary path relative to the FHIR base)
    seconds: float
    polls: int
    errors: list[str] = field(default_factory=list)


async def create_group(upstream: UpstreamClient, extract_id: str, patients: Sequence[str]) -> str:
    """Store the cohort's patients as a Group; returns its id."""
    group = {
        "resourceType": "Group",
        "identifier": [{"system": EXTRACT_SYSTEM, "value": extract_id}],
        "type": "person",
        "actual": True,
        "name": f"research extract {extract_id}",
        "quantity": len(patients),
        "member": [{"entity": {"reference": p}} for p in patients],
    }
    stored = await upstream.send_json("POST", "Group", group)
    return str(stored["id"])


async def export(
    upstream: UpstreamClient,
    path: str,
    params: dict[str, str],
    *,
    poll_seconds: float,
    timeout_seconds: float,
    progress: Progress | None = None,
) -> ExportRun:
    """Kick off ``path`` (``Group/<id>/$export`` or ``$export``) and wait for its manifest."""
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
    group = path.split("/")[1] if path.startswith("Group/") else None
    return ExportRun(group, outputs, time.perf_counter() - started, polls, errors)


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
