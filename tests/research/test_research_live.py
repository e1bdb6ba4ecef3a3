"""Research data sharing end to end on the real HAPI: a synthetic region goes through the native
pipeline; a researcher asks for it, a steward approves; the background job exports the cohort
with HAPI's Group $export, de-identifies, anonymises and writes NDJSON, SQL-on-FHIR tables and
OMOP tables. Expectations are computed from the generator's records (plain Python), and the honest
broker here links released stays back to records only through HAPI ids the test looks up itself.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from smart_kit import SystemClient, get_token, register
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indicators"))
from live_region import live_settings, push_regions

from facade.app import create_app
from facade.db import Database
from facade.privacy.ids import ResearchIds
from facade.research.tables import ResearchRequest
from facade.settings import Settings
from facade.synth.generator import Region, RegionSpec, generate
from facade.upstream import UpstreamClient

# The module fixture pushes a region through the native pipeline (HAPI validates every write).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]
PERIOD = "2026-Q1"
FORMAT = "%Y-%m-%d %H:%M:%S"
CASE_SYSTEM = "https://fhir.vte-region.cn/ig/sid/record/{org}/case"


@dataclass
class World:
    settings: Settings
    database: Database
    region: Region
    http: TestClient
    researcher: SystemClient
    other: SystemClient
    steward: SystemClient


@pytest.fixture(scope="module")
def world(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    assert ig_loaded.get("SearchParameter", 0) >= 3
    settings = live_settings(fhir_base_url, tmp_path_factory.mktemp("research-live"))
    settings = settings.model_copy(
        update={"research_worker_idle_seconds": 0.5, "research_export_poll_seconds": 0.5}
    )
    database = Database(settings.database_url)
    database.upgrade()
    region = generate(RegionSpec(seed=14, hospitals=2, encounters=50, run=uuid.uuid4().hex[:10]))
    push_regions(settings, database, [region])
    researcher = register(database, "researcher")
    other = register(database, "researcher")
    steward = register(database, "admin", scopes="system/Organization.rs")
    with TestClient(create_app(settings, database=database)) as http:
        yield World(settings, database, region, http, researcher, other, steward)
    database.dispose()


def auth(world: World, client: SystemClient) -> dict[str, str]:
    scope = "system/Organization.rs" if client.role == "admin" else "system/*.rs"
    return {
        "Authorization": f"Bearer {get_token(world.http, client, world.settings.public_base_url, scope)}"
    }


def submit(world: World, client: SystemClient, **cohort: Any) -> dict[str, Any]:
    variables = [
        v["id"]
        for v in world.http.get("/research/catalogue", headers=auth(world, client)).json()[
            "variables"
        ]
    ]
    body = {
        "project": "VTE prophylaxis outcomes",
        "purpose": "Association of timely prophylaxis with hospital-associated VTE, 2026 Q1.",
        "ethicsApproval": "IRB-2026-014",
        "period": PERIOD,
        "cohort": {
            "indicator": "A1",
            "population": "initial-population",
            "orgs": world.region.org_codes,
            **cohort,
        },
        "variables": variables,
    }
    answer = world.http.post("/research/requests", json=body, headers=auth(world, client))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def decide(world: World, request_id: str, decision: str, **extra: Any) -> Any:
    return world.http.post(
        f"/research/requests/{request_id}/$decide",
        json={"decision": decision, "reason": "reviewed by the data committee", **extra},
        headers=auth(world, world.steward),
    )


def run_extract(world: World, request_id: str) -> dict[str, Any]:
    queued = world.http.post(
        f"/research/requests/{request_id}/extracts", headers=auth(world, world.researcher)
    )
    assert queued.status_code == 202, queued.text
    deadline = time.monotonic() + 300
    seen = set()
    while True:
        state = world.http.get(
            f"/research/extracts/{queued.json()['id']}", headers=auth(world, world.researcher)
        ).json()
        seen.add(state["stage"])
        if state["state"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["state"] == "done", state
    return dict(state)


@pytest.fixture(scope="module")
def approved(world: World) -> dict[str, Any]:
    request = submit(world, world.researcher)
    assert decide(world, request["id"], "approve").status_code == 200
    extract = run_extract(world, request["id"])
    files = {}
    for entry in extract["files"]:
        answer = world.http.get(
            f"/research/extracts/{extract['id']}/files/{entry['path']}",
            headers=auth(world, world.researcher),
        )
        assert answer.status_code == 200, (entry, answer.text)
        files[entry["path"]] = answer.content
    files["manifest.json"] = world.http.get(
        f"/research/extracts/{extract['id']}/files/manifest.json",
        headers=auth(world, world.researcher),
    ).content
    return {"request": request, "extract": extract, "files": files}


def _ndjson(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def _cases(region: Region) -> dict[tuple[str, str], dict[str, Any]]:
    """Stays discharged in the period, from the records, with what each record type says."""
    start, end = datetime(2026, 1, 1), datetime(2026, 4, 1)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for org, kinds in region.records().items():
        for case in kinds["case"]:
            discharged = case.get("dischargeDateTime")
            if discharged and start <= datetime.strptime(discharged, FORMAT) < end:
                out[(org, case["recordId"])] = {
                    "case": case,
                    **{k: [] for k in kinds if k not in ("case", "organization")},
                }
        for kind, records in kinds.items():
            for record in records:
                key = (org, record.get("caseRecordId", ""))
                if key in out:
                    out[key][kind].append(record)
    return out


async def _hapi_ids(
    settings: Settings, cases: dict[tuple[str, str], Any]
) -> dict[str, tuple[str, str]]:
    upstream = UpstreamClient(settings)
    try:
        ids = {}
        for org, record_id in cases:
            found = await upstream.get_json(
                "Encounter",
                {"identifier": f"{CASE_SYSTEM.format(org=org)}|{record_id}", "_elements": "id"},
            )
            ids[found["entry"][0]["resource"]["id"]] = (org, record_id)
        return ids
    finally:
        await upstream.aclose()


def test_extract_matches_the_generators_records(world: World, approved: dict[str, Any]) -> None:
    files, manifest = approved["files"], orjson.loads(approved["files"]["manifest.json"])
    cases = _cases(world.region)
    assert manifest["cohort"]["stays"] == len(cases) > 20
    broker = ResearchIds(world.settings.secret("research_key"))
    real = asyncio.run(_hapi_ids(world.settings, cases))
    research = {broker.encode("Encounter", hapi): key for hapi, key in real.items()}
    encounters = _ndjson(files["fhir/Encounter.ndjson"])
    released = [research[e["id"]] for e in encounters]  # KeyError: a stay outside the cohort
    privacy = manifest["privacy"]
    assert len(released) == privacy["staysReleased"] == len(cases) - privacy["staysSuppressed"]
    assert privacy["k"] == 5 and privacy["smallestClass"] >= 5
    kept = [cases[k] for k in released]
    live = [m for c in kept for m in c["prophylaxis"]]
    expected = {
        "fhir/Encounter": len(kept),
        "fhir/Patient": len({(c["case"]["orgCode"], c["case"]["patientId"]) for c in kept}),
        "fhir/Condition": sum(
            len(c["case"].get("diagnoses", [])) + len(c["vte-event"]) for c in kept
        ),
        "fhir/Procedure": sum(len(c["case"].get("operations", [])) for c in kept)
        + sum(m["category"] in "12" for m in live),
        "fhir/MedicationAdministration": sum(m["category"] == "3" for m in live),
        "fhir/RiskAssessment": sum(len(c["vte-risk"]) + len(c["bleeding-risk"]) for c in kept),
        "fhir/Observation": sum(len(c["mech-contraindication"]) for c in kept),
        "tables/stay": len(kept),
        "tables/diagnosis": sum(len(c["case"].get("diagnoses", [])) for c in kept),
        "tables/vte_event": sum(len(c["vte-event"]) for c in kept),
        "tables/operation": sum(len(c["case"].get("operations", [])) for c in kept),
        "tables/prophylaxis": sum(m["category"] in "12" for m in live),
        "tables/drug_prophylaxis": sum(m["category"] == "3" for m in live),
        "tables/risk_assessment": sum(len(c["vte-risk"]) + len(c["bleeding-risk"]) for c in kept),
        "tables/assessment_observation": sum(len(c["mech-contraindication"]) for c in kept),
        "omop/person": len({c["case"]["idNumber"] for c in kept}),
        "omop/visit_occurrence": len(kept),
        "omop/condition_occurrence": sum(
            len(c["case"].get("diagnoses", [])) + len(c["vte-event"]) for c in kept
        ),
        "omop/procedure_occurrence": sum(len(c["case"].get("operations", [])) for c in kept)
        + sum(m["category"] in "12" and m["status"] != "4" for m in live),
        "omop/drug_exposure": sum(m["category"] == "3" and m["status"] != "4" for m in live),
        "omop/measurement": sum(len(c["vte-risk"]) + len(c["bleeding-risk"]) for c in kept),
        "omop/observation": sum(len(c["mech-contraindication"]) for c in kept),
        "omop/death": len(
            {c["case"]["idNumber"] for c in kept if c["case"].get("dischargeDisposition") == "5"}
        ),
        "omop/care_site": len({c["case"]["orgCode"] for c in kept}),
    }
    assert {k: manifest["counts"][k] for k in expected} == expected
    # the files hold what the manifest says, byte for byte
    import hashlib

    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
        if entry["path"].endswith(".parquet"):
            assert pq.read_table(io.BytesIO(files[entry["path"]])).num_rows == entry["rows"]
    # every stay of every table is a released stay
    stays = {e["id"] for e in encounters}
    assert (
        set(
            pq.read_table(io.BytesIO(files["tables/diagnosis.parquet"]))
            .column("stay_id")
            .to_pylist()
        )
        <= stays
    )


def test_no_direct_identifier_in_any_file(world: World, approved: dict[str, Any]) -> None:
    markers = set()
    for kinds in world.region.records().values():
        for case in kinds["case"]:
            markers |= {
                case["idNumber"],
                case["patientName"],
                case["patientId"],
                case["inpatientNo"],
                case["recordId"],
            }
    assert len(markers) > 100
    pattern = re.compile(
        "|".join(f"(?<![0-9A-Za-z]){re.escape(m)}(?![0-9A-Za-z])" for m in sorted(markers))
    )
    for path, data in approved["files"].items():
        texts = (
            [data.decode("utf-8")]
            if not path.endswith(".parquet")
            else [
                str(v) for col in pq.read_table(io.BytesIO(data)).columns for v in col.to_pylist()
            ]
        )
        for text in texts:
            found = pattern.search(text)
            assert found is None, (path, found.group(0) if found else None)


def test_dates_are_shifted_by_one_offset_per_person(world: World, approved: dict[str, Any]) -> None:
    cases = _cases(world.region)
    broker = ResearchIds(world.settings.secret("research_key"))
    real = asyncio.run(_hapi_ids(world.settings, cases))
    research = {broker.encode("Encounter", hapi): key for hapi, key in real.items()}
    files = approved["files"]
    offsets: dict[str, set[timedelta]] = defaultdict(set)
    assessments = defaultdict(list)
    for ra in _ndjson(files["fhir/RiskAssessment.ndjson"]):
        assessments[ra["encounter"]["reference"].split("/")[1]].append(
            ra["occurrenceDateTime"][:19]
        )
    for encounter in _ndjson(files["fhir/Encounter.ndjson"]):
        case = cases[research[encounter["id"]]]
        record = case["case"]
        shift = datetime.fromisoformat(encounter["period"]["start"][:19]) - datetime.strptime(
            record["admissionDateTime"], FORMAT
        )
        assert shift != timedelta(0) and shift.seconds == 0  # whole days, never zero
        offsets[record["idNumber"]].add(shift)
        end = datetime.fromisoformat(encounter["period"]["end"][:19])
        assert end - shift == datetime.strptime(record["dischargeDateTime"], FORMAT)
        expected = sorted(
            (datetime.strptime(r["assessmentDateTime"], FORMAT) + shift).isoformat()
            for r in case["vte-risk"] + case["bleeding-risk"]
        )
        assert sorted(assessments[encounter["id"]]) == expected
    assert all(len(s) == 1 for s in offsets.values())
    assert len({next(iter(s)) for s in offsets.values()}) > 1  # offsets differ between people


def test_quasi_identifiers_are_k_anonymous(world: World, approved: dict[str, Any]) -> None:
    files = approved["files"]
    table = pq.read_table(io.BytesIO(files["tables/quasi_identifiers.parquet"])).to_pylist()
    classes = Counter(
        tuple(row[k] for k in ("age_band", "sex", "region", "admission")) for row in table
    )
    assert min(classes.values()) >= 5
    assert {row["stay_id"] for row in table} == {
        e["id"] for e in _ndjson(files["fhir/Encounter.ndjson"])
    }
    # the released classes agree with the released NDJSON at the reported levels
    levels = orjson.loads(files["manifest.json"])["privacy"]["levels"]
    patients = {p["id"]: p for p in _ndjson(files["fhir/Patient.ndjson"])}
    by_stay = {row["stay_id"]: row for row in table}
    for encounter in _ndjson(files["fhir/Encounter.ndjson"]):
        patient = patients[encounter["subject"]["reference"].split("/")[1]]
        assert len(patient["birthDate"]) == 4  # the view keeps the year only
        if levels["sex"] == "value":
            assert by_stay[encounter["id"]]["sex"] == patient["gender"]


def test_only_the_researcher_of_a_live_grant_downloads(
    world: World, approved: dict[str, Any]
) -> None:
    extract = approved["extract"]
    path = extract["files"][0]["path"]
    url = f"/research/extracts/{extract['id']}/files/{path}"
    assert world.http.get(url, headers=auth(world, world.other)).status_code == 404
    assert (
        world.http.get(
            f"/research/extracts/{extract['id']}", headers=auth(world, world.other)
        ).status_code
        == 404
    )
    assert world.http.get(url, headers=auth(world, world.steward)).status_code == 403
    # a rejected request never gets an extract
    rejected = submit(world, world.researcher)
    assert decide(world, rejected["id"], "reject").json()["state"] == "rejected"
    answer = world.http.post(
        f"/research/requests/{rejected['id']}/extracts", headers=auth(world, world.researcher)
    )
    assert answer.status_code == 403
    # expiry stops downloads (and is stored as a transition)
    with world.database.session() as session:
        session.execute(
            update(ResearchRequest)
            .where(ResearchRequest.id == approved["request"]["id"])
            .values(expires_at=datetime.now().astimezone() - timedelta(seconds=1))
        )
    assert world.http.get(url, headers=auth(world, world.researcher)).status_code == 403
    seen = world.http.get(
        f"/research/requests/{approved['request']['id']}", headers=auth(world, world.researcher)
    ).json()
    assert seen["state"] == "expired" and seen["transitions"][-1]["actor"] == "system"


def test_revoking_stops_downloads_and_everything_is_audited(world: World) -> None:
    request = submit(world, world.researcher, indicator="C1", population="numerator")
    narrowed = decide(
        world, request["id"], "narrow", variables=["stay.admitted", "stay.discharged"]
    )
    assert narrowed.status_code == 200 and narrowed.json()["state"] == "narrowed"
    extract = run_extract(world, request["id"])
    manifest = world.http.get(
        f"/research/extracts/{extract['id']}", headers=auth(world, world.researcher)
    ).json()["manifest"]
    assert [v["name"] for v in manifest["views"]] == ["stay"]
    assert manifest["views"][0]["columns"] == ["stay_id", "patient_id", "admitted", "discharged"]
    url = f"/research/extracts/{extract['id']}/files/tables/stay.csv"
    assert world.http.get(url, headers=auth(world, world.researcher)).status_code == 200
    revoked = world.http.post(
        f"/research/requests/{request['id']}/$revoke",
        json={"reason": "consent withdrawn"},
        headers=auth(world, world.steward),
    )
    assert revoked.json()["state"] == "revoked"
    assert world.http.get(url, headers=auth(world, world.researcher)).status_code == 403
    assert not (world.settings.research_extract_dir / extract["id"]).exists()  # files deleted
    history = [
        t["to"]
        for t in world.http.get(
            f"/research/requests/{request['id']}", headers=auth(world, world.steward)
        ).json()["transitions"]
    ]
    assert history == ["submitted", "narrowed", "revoked"]
    from sqlalchemy import select

    from facade.audit.tables import AuditRecord

    with world.database.session() as session:
        bodies = [orjson.loads(r.body) for r in session.scalars(select(AuditRecord))]
    downloads = [b for b in bodies if any(e.get("name") == "file" for e in b.get("entity", []))]
    runs = [b for b in bodies if b["outcomeDesc"].startswith("200 research extract done")]
    assert len(runs) >= 2 and all(
        b["purposeOfEvent"][0]["coding"][0]["code"] == "HRESCH" for b in runs
    )
    assert {b["outcome"] for b in downloads} == {"0", "4"}  # served ones and refused ones
    assert any(
        d.get("valueString") == "tables/stay.csv"
        for b in downloads
        for e in b["entity"]
        for d in e.get("detail", [])
    )


def test_catalogue_describes_variables_and_withholds_small_cells(world: World) -> None:
    answer = world.http.get(
        "/research/catalogue", params={"period": PERIOD}, headers=auth(world, world.researcher)
    )
    assert answer.status_code == 200
    body = answer.json()
    admitted = next(v for v in body["variables"] if v["id"] == "stay.admitted")
    assert (
        admitted["dictionary"]["de"] == "DE06.00.092.00"
        and admitted["dictionary"]["zh"] == "入院日期时间"
    )
    sex = next(v for v in body["variables"] if v["id"] == "patient.sex_code")
    assert sex["dictionary"]["codeSystem"].endswith("gbt-2261-1-sex")
    counts = body["counts"]
    assert set(counts["Encounter"]) == {"2026-01", "2026-02", "2026-03"}
    cells = [n for months in counts.values() for n in months.values()]
    assert all(n is None or n == 0 or n >= world.settings.research_min_cell for n in cells)
    assert sum(n or 0 for n in counts["Encounter"].values()) >= len(_cases(world.region))
    # an auditor (or a hospital) has no access to research sharing at all
    auditor = register(world.database, "auditor", scopes="system/AuditEvent.rs")
    token = get_token(world.http, auditor, world.settings.public_base_url, "system/AuditEvent.rs")
    refused = world.http.get("/research/catalogue", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
