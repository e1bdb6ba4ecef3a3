"""Counters kept at intake: re-sends never count twice, corrections replace, refusals count and clear, Excel counts too."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from facade.app import create_app
from facade.db import Database
from facade.excel.assets import load_assets
from facade.excel.importer import Importer, run_import
from facade.mapping.processor import DictionaryProcessor
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.quality.rules import rule_set
from facade.quality.tables import DqCount, DqFinding
from facade.settings import Settings, ensure_secrets
from facade.synth.defects import SimulatedClock
from facade.synth.identity import resident_id

ORG = "12330100470116614F"
CST = timezone(timedelta(hours=8))


def _case(number: int, discharged: str = "2026-02-10 10:00:00", **changes: Any) -> dict[str, Any]:
    record = {
        "recordId": f"ZY{number:05d}",
        "recordVersion": 1,
        "orgCode": ORG,
        "patientId": f"P{number:06d}",
        "idType": "01",
        "idNumber": resident_id("110105", datetime(1956, 3, 14).date(), number, male=True),
        "sex": "1",
        "birthDate": "1956-03-14",
        "inpatientNo": f"{number:08d}",
        "admissionDateTime": "2026-02-01 09:30:00",
        "dischargeDateTime": discharged,
        "admissionDeptCode": "0301",
        "admissionDeptName": "骨科",
        "dischargeDeptCode": "0301",
        "dischargeDeptName": "骨科",
        "dischargeDisposition": "1",
        "diagnoses": [
            {
                "diagnosisType": "1",
                "icd10Code": "S72.000",
                "diagnosisName": "股骨颈骨折",
                "admissionCondition": "1",
            }
        ],
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


class Site:
    """One institution uploading through the real gateway at a chosen moment."""

    def __init__(
        self, settings: Settings, database: Database, http: TestClient, clock: SimulatedClock
    ) -> None:
        self.database = database
        self.clock = clock
        box = SecretBox.for_purpose(settings, APP_SECRETS)
        with database.session() as session:
            orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="test")
            issued = credentials.issue_app(session, box, ORG, name="VTE")
        self.client = VteXClient(
            "/vte-x/v1/gateway",
            app_id=issued.app_id,
            org_code=ORG,
            secret=issued.secret,
            http=http,
            clock=clock,
        )
        self.app_id = issued.app_id

    def at(self, moment: str) -> None:
        self.clock.now_ms = int(
            datetime.fromisoformat(moment).replace(tzinfo=CST).timestamp() * 1000
        )

    def send(self, batch: str, *records: dict[str, Any]) -> list[str]:
        reply = self.client.upload("VTE.CASE.UPLOAD", batch, list(records))
        assert reply.code == "0" and reply.payload is not None
        return [r["status"] for r in reply.payload["results"]]

    def counts(self) -> dict[tuple[str, str], int]:
        with self.database.session() as session:
            rows = session.execute(select(DqCount.bucket, DqCount.token, DqCount.value))
            return {(b, t): v for b, t, v in rows if v}

    def findings(self) -> set[tuple[str, str, str]]:
        with self.database.session() as session:
            rows = session.execute(select(DqFinding.token, DqFinding.bucket, DqFinding.record_key))
            return {(t, b, k) for t, b, k in rows}


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[Site]:
    current = ensure_secrets(settings.model_copy(update={"forward_enabled": False}))
    clock = SimulatedClock(0)
    app = create_app(current, database=database, clock=clock)
    with TestClient(app) as http:
        yield Site(current, database, http, clock)


def test_resends_count_once_and_corrections_replace(site: Site) -> None:
    site.at("2026-02-11T02:00:00")
    assert site.send("B1", _case(1)) == ["SUCCESS"]
    first = site.counts()
    assert first[("2026-02", "r:case")] == 1 and first[("2026-02", "a:case")] == 1
    assert first[("2026-02-01", "day:case")] == 1
    site.at("2026-02-11T02:00:05")
    assert site.send("B1", _case(1)) == ["SUCCESS"]  # the same batch again: the stored reply
    assert site.send("B2", _case(1)) == ["DUPLICATE"]  # the same record in a new batch
    assert site.counts() == first
    # a correction moves the discharge into March: February loses the stay, March gains it once
    site.at("2026-03-06T02:00:00")
    assert site.send("B3", _case(1, "2026-03-02 10:00:00", recordVersion=2)) == ["SUCCESS"]
    moved = site.counts()
    assert ("2026-02", "r:case") not in moved
    assert moved[("2026-03", "r:case")] == 1 and moved[("2026-03", "x:accuracy.corrections")] == 1
    assert moved[("2026-02-01", "day:case")] == 1
    assert sum(v for (b, t), v in moved.items() if t == "r:case") == 1
    # the lag is still dated by the first receipt carrying a discharge (11 Feb): not late
    assert ("2026-03", "x:timeliness.case") not in moved
    assert moved[("2026-03", "h:timeliness.case:0")] == 1
    assert ("x:accuracy.corrections", "2026-03", "ZY00001") in site.findings()


def test_refusals_count_once_and_clear_when_fixed(site: Site) -> None:
    site.at("2026-02-11T02:00:00")
    broken = _case(2, sex=None)
    assert site.send("B1", broken) == ["FAILED"]
    site.at("2026-02-12T02:00:00")
    assert site.send("B2", broken) == ["FAILED"]  # the same refusal again
    counts = site.counts()
    assert counts[("2026-02", "r:case")] == 1
    assert counts[("2026-02", "x:conformance.refused.3001")] == 1
    assert counts[("2026-02", "x:completeness.required.case.sex")] == 1
    assert counts[("2026-02", "b:3001:required")] == 1
    assert ("x:completeness.required.case.sex", "2026-02", "ZY00002") in site.findings()
    site.at("2026-02-13T02:00:00")
    assert site.send("B3", _case(2)) == ["SUCCESS"]
    fixed = site.counts()
    assert not [
        t for (_b, t) in fixed if t.startswith(("x:conformance", "x:completeness.required", "b:"))
    ]
    assert fixed[("2026-02", "r:case")] == 1 and fixed[("2026-02", "a:case")] == 1
    assert not site.findings()


def test_a_refused_correction_is_kept_beside_the_accepted_version(site: Site) -> None:
    site.at("2026-02-11T02:00:00")
    assert site.send("B1", _case(3)) == ["SUCCESS"]
    site.at("2026-02-12T02:00:00")
    assert site.send("B2", _case(3, recordVersion=2, birthDate="1956/03/14")) == ["FAILED"]
    counts = site.counts()
    assert counts[("2026-02", "a:case")] == 1  # the platform still holds version 1
    assert counts[("2026-02", "x:conformance.refused.3002")] == 1
    assert counts[("2026-02", "r:case")] == 1


def test_excel_import_counts_through_the_same_intake(
    settings: Settings, database: Database
) -> None:
    current = ensure_secrets(settings)
    box = SecretBox.for_purpose(current, APP_SECRETS)
    with database.session() as session:
        orgs.add_org(session, ORG, "测试医院", grade="31", fhir_id="test")
        issued = credentials.issue_app(session, box, ORG, name="VTE")
    rules = rule_set(current)
    assets = load_assets(current, rules.dictionary)
    book = load_workbook(io.BytesIO(assets.template()))
    sheet = book["住院病例"]
    columns = {cell.value: cell.column for cell in sheet[2] if cell.value}
    for row, record in enumerate((_case(4), _case(5, sex="Q")), start=3):
        for name, value in record.items():
            if name in columns and not isinstance(value, list):
                sheet.cell(row, columns[name], value)
    data = io.BytesIO()
    book.save(data)
    result = run_import(
        data.getvalue(),
        importer=Importer(issued.app_id, ORG),
        dictionary=rules.dictionary,
        layout=assets.layout,
        settings=current,
        database=database,
        processor=DictionaryProcessor.from_settings(current, database),
    )
    assert Counter(o.status for o in result.outcomes) == {"SUCCESS": 1, "FAILED": 1}
    with database.session() as session:
        totals = Counter()
        for token, value in session.execute(select(DqCount.token, DqCount.value)):
            totals[token] += value
    assert totals["r:case"] == 2 and totals["a:case"] == 1
    assert totals["x:conformance.code-table.case.sex"] == 1


def test_the_earliest_received_of_a_duplicate_group_stays_the_original(site: Site) -> None:
    duplicate = "x:consistency.duplicate.case"

    def listed() -> set[str]:
        return {key for token, _bucket, key in site.findings() if token == duplicate}

    # one batch: the record sent first is the original, whatever its record id
    site.at("2026-02-11T02:00:00")
    first, second = _case(12, patientId="P000010"), _case(11, patientId="P000010")
    assert site.send("B1", first, second) == ["SUCCESS", "SUCCESS"]
    assert listed() == {"ZY00011"}
    # two batches: the one received later is the duplicate
    assert site.send("B2", _case(21, patientId="P000020")) == ["SUCCESS"]
    site.at("2026-02-11T03:00:00")
    assert site.send("B3", _case(20, patientId="P000020")) == ["SUCCESS"]
    assert listed() == {"ZY00011", "ZY00020"}
    # corrections re-evaluate the groups from the stored rows: nothing flips
    site.at("2026-02-12T02:00:00")
    assert site.send("B4", _case(11, patientId="P000010", recordVersion=2)) == ["SUCCESS"]
    assert site.send("B5", _case(12, patientId="P000010", recordVersion=2)) == ["SUCCESS"]
    assert site.send("B6", _case(21, patientId="P000020", recordVersion=2)) == ["SUCCESS"]
    assert listed() == {"ZY00011", "ZY00020"}
    assert sum(v for (_b, t), v in site.counts().items() if t == duplicate) == 2
    # a third member, in a batch with a correction of the original: the original keeps its place
    site.at("2026-02-13T02:00:00")
    third = _case(13, patientId="P000010")
    assert site.send("B7", third, _case(12, patientId="P000010", recordVersion=3)) == [
        "SUCCESS",
        "SUCCESS",
    ]
    assert listed() == {"ZY00011", "ZY00013", "ZY00020"}
