"""One extraction of a live grant, start to finish, into ``<research_dir>/<extract id>/``.

    cohort (indicator engine) → HAPI $export with type filters (NDJSON per type) → keep the cohort's
    stays and what belongs to them → research view (deidentify.project_for_research) →
    k-anonymity (privacy) → fhir/*.ndjson → tables/*.csv|parquet (ViewDefinitions, sof) →
    omop/*.csv|parquet → manifest.json

Everything is written under ``<id>.partial`` and renamed into place at the end, so a failed or
revoked extraction leaves no file a researcher could download. Resources of a stay are those
whose ``encounter`` (``context`` for MedicationAdministration) is the stay; the stay's Patient
comes with it.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from facade import __version__
from facade.db import Database
from facade.frontdoor.context import FrontDoor
from facade.indicators.periods import Period, parse_period
from facade.indicators.service import catalog, engine
from facade.research import bulk, cohort, lifecycle, omop, outputs
from facade.research.catalogue import ViewSpec, views
from facade.research.deidentify import project_for_research
from facade.research.privacy import StayQi, anonymise, class_values, load_rules, suppress_cells
from facade.research.sof import View
from facade.research.vocab import Vocabulary
from facade.settings import Settings
from facade.upstream import UpstreamClient

Progress = Callable[[str, int], Awaitable[None]]
FIRST = ("Patient", "Encounter")
_LINK = {"MedicationAdministration": "context"}


@dataclass
class ExtractJob:
    """What one extraction needs."""

    settings: Settings
    database: Database
    upstream: UpstreamClient
    door: FrontDoor
    extract_id: str
    request_id: str
    progress: Progress


def _stay_of(resource: dict[str, Any]) -> str | None:
    link = resource.get(_LINK.get(str(resource.get("resourceType")), "encounter"))
    ref = link.get("reference") if isinstance(link, dict) else None
    return ref.split("/")[-1] if isinstance(ref, str) and ref.startswith("Encounter/") else None


def _patient_of(resource: dict[str, Any]) -> str | None:
    subject = resource.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    return ref.split("/")[-1] if isinstance(ref, str) and ref.startswith("Patient/") else None


def _write_ndjson(path: Path, resources: list[dict[str, Any]]) -> None:
    with path.open("ab") as handle:
        for resource in resources:
            handle.write(orjson.dumps(resource) + b"\n")


async def run(job: ExtractJob) -> dict[str, Any]:
    """Extract; returns the manifest. Raises Forbidden when the grant is gone (before or after)."""
    settings = job.settings
    grant = lifecycle.live_grant(job.database, None, job.request_id)
    rules = catalog(settings).definitions.rules
    span = parse_period(grant.period, rules.tz)
    granted = set(grant.variables)
    chosen = [v for v in views(settings) if any(x.split(".", 1)[0] == v.name for x in granted)]
    # Patients first: the research view then knows every date-shift subject from the batch.
    types = [*FIRST, *sorted({v.resource for v in chosen} - set(FIRST))]
    final = settings.research_extract_dir / job.extract_id
    work = final.with_name(final.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "fhir").mkdir(parents=True)
    try:
        return await _extract(job, grant, chosen, types, span, work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # renamed away on success; half-written otherwise


async def _extract(
    job: ExtractJob,
    grant: lifecycle.Grant,
    chosen: list[ViewSpec],
    types: list[str],
    span: Period,
    work: Path,
    final: Path,
) -> dict[str, Any]:
    settings = job.settings
    granted = set(grant.variables)
    clock = _Clock()
    started = datetime.now(UTC)

    await job.progress("selecting cohort", 2)
    clock.start("cohort")
    stays = await cohort.select(engine(settings, job.upstream), grant.period, grant.cohort)
    patients = stays.patients
    export_seconds = 0.0
    raw_counts: Counter[str] = Counter()
    by_type: dict[str, list[str]] = {t: [] for t in types}
    if stays.stays:
        await job.progress(f"exporting {len(stays.stays)} stays of {len(patients)} patients", 5)
        clock.start("export")

        async def waiting(note: str) -> None:
            await job.progress(f"HAPI $export: {note}"[:64], 20)

        exported = await bulk.export(
            job.upstream,
            "$export",
            {
                "_type": ",".join(types),
                "_typeFilter": bulk.cohort_filters(types, span, grant.cohort.orgs),
            },
            poll_seconds=settings.research_export_poll_seconds,
            timeout_seconds=settings.research_export_timeout_seconds,
            progress=waiting,
        )
        export_seconds = exported.seconds
        for rtype, binary in exported.outputs:
            by_type.setdefault(rtype, []).append(binary)

    # -- keep the cohort's stays, show them through the research view
    await job.progress("de-identifying", 40)
    clock.start("deidentify")
    cohort_stays = stays.encounter_ids
    cohort_patients = {p.split("/", 1)[1] for p in patients}
    qi_patient: dict[str, tuple[str | None, int | None, str | None]] = {}
    qi_stay: dict[str, tuple[str | None, str | None]] = {}
    research_of: dict[str, str] = {}  # projected Encounter id -> real id (aggregates only)
    for index, rtype in enumerate(types):
        batch: list[dict[str, Any]] = []
        for binary in by_type.get(rtype, []):
            async for line in bulk.lines(job.upstream, binary):
                resource = orjson.loads(line)
                raw_counts[rtype] += 1
                if not _in_cohort(resource, cohort_stays, cohort_patients):
                    continue
                batch.append(resource)
                if len(batch) >= settings.research_view_chunk:
                    await _project(
                        job, grant.researcher, batch, work, qi_patient, qi_stay, research_of
                    )
                    batch = []
        await _project(job, grant.researcher, batch, work, qi_patient, qi_stay, research_of)
        await job.progress(f"de-identified {rtype}", 40 + 30 * (index + 1) // len(types))

    # -- k-anonymity over the released stays
    clock.start("anonymise")
    privacy_rules = load_rules(settings.mappings_dir / "research" / "privacy.yaml")
    qis = [_qi(stay, info, qi_patient) for stay, info in sorted(qi_stay.items())]
    report, kept = anonymise(qis, privacy_rules, settings.research_k)
    kept_stays = {key.split("/", 1)[1] for key in kept}
    kept_patients = {s.patient for s in qis if s.stay in kept and s.patient}
    await job.progress("writing FHIR NDJSON", 75)
    clock.start("ndjson")
    files: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for rtype in types:
        source = work / "fhir" / f"{rtype}.partial"
        target = work / "fhir" / f"{rtype}.ndjson"
        written = 0
        with target.open("wb") as out:
            if source.exists():
                for resource in outputs.ndjson_lines(source):
                    if _in_cohort(resource, kept_stays, kept_patients):
                        out.write(orjson.dumps(resource) + b"\n")
                        written += 1
                source.unlink()
        counts[f"fhir/{rtype}"] = written
        files.append(outputs.describe(target, work, written))

    # -- SQL-on-FHIR tables
    await job.progress("running ViewDefinitions", 82)
    clock.start("views")
    view_entries = []
    for spec in chosen:
        definition = spec.narrowed(granted)
        view = View(definition)
        rows = list(view.rows(outputs.ndjson_lines(work / "fhir" / f"{spec.resource}.ndjson")))
        types_of = {c["name"]: c.get("type") for c in spec.columns()}
        columns = [(name, types_of.get(name)) for name in view.columns]
        for written_path in outputs.write_table(rows, columns, work / "tables", spec.name):
            files.append(outputs.describe(written_path, work, len(rows)))
        counts[f"tables/{spec.name}"] = len(rows)
        view_entries.append(
            {
                "name": spec.name,
                "url": definition.get("url"),
                "resource": spec.resource,
                "columns": view.columns,
                "sha256": _sha(definition),
                "definition": definition,
            }
        )
    qi_rows = [
        {"stay_id": s.stay.split("/", 1)[1], **class_values(privacy_rules, report.levels, s)}
        for s in qis
        if s.stay in kept
    ]
    qi_columns: list[tuple[str, str | None]] = [
        ("stay_id", None),
        *((q.name, None) for q in privacy_rules.quasi_identifiers),
    ]
    for qi_path in outputs.write_table(qi_rows, qi_columns, work / "tables", "quasi_identifiers"):
        files.append(outputs.describe(qi_path, work, len(qi_rows)))

    # -- OMOP CDM 5.4
    await job.progress("building OMOP tables", 90)
    clock.start("omop")
    config = omop.load_config(settings.mappings_dir / "research" / "omop.yaml")
    vocabulary = Vocabulary.from_database(job.database)
    builder = omop.OmopBuilder(vocabulary, config)
    for rtype in types:
        for resource in outputs.ndjson_lines(work / "fhir" / f"{rtype}.ndjson"):
            builder.add(resource)
    for table, rows in builder.rows.items():
        for omop_path in outputs.write_table(rows, omop.COLUMNS[table], work / "omop", table):
            files.append(outputs.describe(omop_path, work, len(rows)))
        counts[f"omop/{table}"] = len(rows)

    # -- the grant must still be live before anything is published
    clock.start("manifest")
    live = lifecycle.live_grant(job.database, None, job.request_id)
    released = [research_of[s] for s in kept_stays if s in research_of]
    facts = stays.stays
    manifest = {
        "extract": job.extract_id,
        "createdAt": started.isoformat(),
        "finishedAt": datetime.now(UTC).isoformat(),
        "software": {"name": "vte-facade", "version": __version__},
        "request": {
            "id": grant.request_id,
            "researcher": grant.researcher,
            "project": grant.project,
            "purpose": grant.purpose,
            "ethicsApproval": grant.ethics_approval,
            "state": live.state.value,
            "period": grant.period,
            "cohort": grant.cohort.model_dump(mode="json", exclude_defaults=True),
            "variables": sorted(granted),
            "expiresAt": live.expires_at.isoformat(),
        },
        "cohort": {
            "stays": len(facts),
            "staysReleased": len(kept_stays),
            "patientsReleased": len(kept_patients),
            # aggregates, small cells withheld (null)
            "byHospital": suppress_cells(
                sorted(Counter(facts[f"Encounter/{r}"].org for r in released).items()),
                settings.research_min_cell,
            ),
            "byDischargeMonth": suppress_cells(
                sorted(Counter(facts[f"Encounter/{r}"].month for r in released).items()),
                settings.research_min_cell,
            ),
        },
        "source": {
            "export": "$export with one _typeFilter per type (HAPI Bulk Data)",
            "exportSeconds": round(export_seconds, 3),
            "stageSeconds": clock.seconds,
            "resourcesExported": dict(sorted(raw_counts.items())),
            "deidentification": "research view (facade.research.deidentify.project_for_research)",
            "dateShift": f"one secret offset per person, 1..{settings.research_date_shift_max_days} days either way",
        },
        "views": view_entries,
        "omop": {
            "cdmVersion": "5.4",
            "vocabulary": vocabulary.release or "none loaded: every *_concept_id is 0",
        },
        "privacy": report.as_dict(),
        "counts": counts,
        "files": files,
    }
    (work / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)
    await job.progress("done", 100)
    return manifest


class _Clock:
    """Wall-clock seconds per stage of one extraction (the manifest reports them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def start(self, stage: str) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] = round(now - self._since, 3)
        self._stage, self._since = stage, now


def _in_cohort(resource: dict[str, Any], stays: set[str], patients: set[str]) -> bool:
    """Whether a resource belongs to one of the stays (a Patient: to one of the patients)."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return resource.get("id") in patients
    if rtype == "Encounter":
        return resource.get("id") in stays
    return _stay_of(resource) in stays


async def _project(
    job: ExtractJob,
    researcher: str,
    batch: list[dict[str, Any]],
    work: Path,
    qi_patient: dict[str, tuple[str | None, int | None, str | None]],
    qi_stay: dict[str, tuple[str | None, str | None]],
    research_of: dict[str, str],
) -> None:
    if not batch:
        return
    projected = await project_for_research(batch, researcher, job.door, job.upstream)
    pairs = [(raw, r) for raw, r in zip(batch, projected, strict=True) if r is not None]
    if not pairs:
        return
    shown = [resource for _, resource in pairs]
    for raw, resource in pairs:
        rid = str(resource.get("id"))
        if resource.get("resourceType") == "Patient":
            birth = str(resource.get("birthDate") or "")
            state = next(
                (a.get("state") for a in resource.get("address") or [] if a.get("state")), None
            )
            qi_patient[rid] = (
                resource.get("gender"),
                int(birth[:4]) if birth[:4].isdigit() else None,
                state,
            )
        elif resource.get("resourceType") == "Encounter":
            qi_stay[f"Encounter/{rid}"] = (
                _patient_of(resource),
                (resource.get("period") or {}).get("start"),
            )
            research_of[rid] = str(raw.get("id"))
    rtype = str(shown[0].get("resourceType"))
    _write_ndjson(work / "fhir" / f"{rtype}.partial", shown)


def _qi(
    stay: str,
    info: tuple[str | None, str | None],
    patients: dict[str, tuple[str | None, int | None, str | None]],
) -> StayQi:
    patient, admitted = info
    gender, birth_year, region = patients.get(patient or "", (None, None, None))
    day = datetime.fromisoformat(admitted[:10]).date() if admitted and len(admitted) >= 10 else None
    age = day.year - birth_year if day and birth_year else None
    return StayQi(stay, patient, age, gender, region, day)


def _sha(definition: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()
