"""Test kit of the data-quality tests: a defect region replayed through the real gateway on a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.testclient import TestClient

from facade.app import create_app
from facade.db import Database
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.quality.rules import RuleSet, rule_set
from facade.quality.service import QualityService
from facade.services import services_of
from facade.settings import Settings, ensure_secrets
from facade.synth.defects import DefectRegion, SimulatedClock, replay, with_defects
from facade.synth.generator import RegionSpec, generate

GATEWAY = "/vte-x/v1/gateway"


@dataclass
class Replayed:
    """A defect region after its schedule went through the gateway."""

    defects: DefectRegion
    rules: RuleSet
    clock: SimulatedClock
    service: QualityService
    clients: dict[str, VteXClient]
    http: TestClient


def _normal(field: str) -> str:
    """``records[3].diagnoses[0].icd10Code`` → ``diagnoses.icd10Code``."""
    path = field.partition("]")[2].lstrip(".") if field.startswith("records[") else field
    return ".".join(part.partition("[")[0] for part in path.split("."))


@contextmanager
def replayed(
    settings: Settings, database: Database, seed: int, *, encounters: int = 60
) -> Iterator[Replayed]:
    """Generate, register, upload everything in order; check each record was answered as planned."""
    current = ensure_secrets(settings.model_copy(update={"forward_enabled": False}))
    rules = rule_set(current)
    region = generate(RegionSpec(seed=seed, hospitals=2, encounters=encounters, period="2026-02"))
    defects = with_defects(region, rules)
    clock = SimulatedClock(defects.submissions[0].at_ms)
    app = create_app(current, database=database, clock=clock)
    box = SecretBox.for_purpose(current, APP_SECRETS)
    with TestClient(app) as http:
        clients = {}
        with database.session() as session:
            for hospital in defects.hospitals:
                orgs.add_org(
                    session, hospital.org_code, hospital.name, grade="31", fhir_id="synthetic"
                )
                issued = credentials.issue_app(
                    session, box, hospital.org_code, name="VTE", sign_types=("HMAC-SM3",)
                )
                clients[hospital.org_code] = VteXClient(
                    GATEWAY,
                    app_id=issued.app_id,
                    org_code=hospital.org_code,
                    secret=issued.secret,
                    sign_type="HMAC-SM3",
                    http=http,
                    clock=clock,
                )
        for submission, reply in replay(defects, rules, clients, clock):
            assert reply.code == "0", (submission.batch_no, reply.members)
            assert reply.payload is not None
            for result in reply.payload["results"]:
                record = submission.records[result["index"]]
                key = (
                    submission.org_code,
                    submission.record_type,
                    str(record["recordId"]),
                    int(record.get("recordVersion", 1)),
                )
                expected = defects.expected.get(key)
                if expected is None or expected.code is None:
                    assert result["status"] == "SUCCESS", (key, result)
                    continue
                got = {(e["code"], _normal(e["field"])) for e in result["errors"]}
                assert result["status"] == "FAILED", (key, result)
                want = {(expected.code, expected.path), *expected.also}
                assert got == want, (key, result["errors"])
        clock.now_ms = defects.end_ms
        yield Replayed(defects, rules, clock, services_of(app).quality, clients, http)
