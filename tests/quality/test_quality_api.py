"""The /dq API: QC sees the region and every institution, a hospital only itself; every request audited."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from quality_kit import Replayed
from smart_kit import get_token, register
from sqlalchemy import func, select

from facade.audit.tables import AuditRecord


def _token(run: Replayed, role: str, org: str | None = None) -> dict[str, str]:
    client = register(run.service.reports.database, role, org=org)
    token = get_token(run.http, client, run.service.settings.public_base_url, "system/*.rs")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def qc(shared: Replayed) -> dict[str, str]:
    return _token(shared, "qc")


@pytest.fixture(scope="module")
def hospital(shared: Replayed) -> dict[str, str]:
    return _token(shared, "hospital", shared.defects.hospitals[0].org_code)


def _audited(run: Replayed) -> int:
    with run.service.reports.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def test_qc_reads_the_region_and_any_institution(shared: Replayed, qc: dict[str, str]) -> None:
    region = shared.http.get("/dq/report", params={"period": "2026-02"}, headers=qc)
    assert region.status_code == 200
    body: dict[str, Any] = region.json()
    assert body["kind"] == "region"
    codes = {h["orgCode"] for h in body["hospitals"]}
    assert codes == {h.org_code for h in shared.defects.hospitals}
    ranks = sorted(h["rank"] for h in body["hospitals"] if h["rank"] is not None)
    assert ranks[0] == 1
    other = shared.defects.hospitals[1].org_code
    one = shared.http.get("/dq/report", params={"period": "2026-02", "org": other}, headers=qc)
    assert one.status_code == 200 and one.json() == shared.service.report("2026-02", other)


def test_a_hospital_sees_only_itself(shared: Replayed, hospital: dict[str, str]) -> None:
    own = shared.defects.hospitals[0].org_code
    before = _audited(shared)
    mine = shared.http.get("/dq/report", params={"period": "2026-02"}, headers=hospital)
    assert mine.status_code == 200 and mine.json()["orgCode"] == own
    other = shared.defects.hospitals[1].org_code
    refused = shared.http.get(
        "/dq/report", params={"period": "2026-02", "org": other}, headers=hospital
    )
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert other not in refused.text
    assert _audited(shared) == before + 2


def test_other_roles_and_bad_periods_are_refused(shared: Replayed, qc: dict[str, str]) -> None:
    researcher = _token(shared, "researcher")
    assert (
        shared.http.get("/dq/report", params={"period": "2026-02"}, headers=researcher).status_code
        == 403
    )
    assert shared.http.get("/dq/report", params={"period": "2026-02"}).status_code == 401
    bad = shared.http.get("/dq/report", params={"period": "2026-13"}, headers=qc)
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["period"]


def test_workbook_lists_every_problem_record_of_the_hospital(
    shared: Replayed, hospital: dict[str, str]
) -> None:
    own = shared.defects.hospitals[0].org_code
    response = shared.http.get("/dq/report.xlsx", params={"period": "2026-02"}, headers=hospital)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["概要", "问题", "问题记录", "规则", "拒收", "日上报量"]
    rows = list(book["问题记录"].iter_rows(min_row=2, values_only=True))
    report = shared.service.report("2026-02", own)
    expected = sum(
        r["numerator"] for r in report["rules"] if r["kind"] not in ("daily-gap", "daily-drop")
    )
    assert len(rows) == expected
    sent = {
        str(record["recordId"])
        for s in shared.defects.submissions
        if s.org_code == own
        for record in s.records
    }
    assert {row[3] for row in rows} <= sent | {f"#{s.batch_no}" for s in shared.defects.submissions}


def test_fhir_and_rules(shared: Replayed, hospital: dict[str, str]) -> None:
    own = shared.defects.hospitals[0].org_code
    bundle = shared.http.get("/dq/report/fhir", params={"period": "2026-02"}, headers=hospital)
    assert bundle.status_code == 200
    reports = [e["resource"] for e in bundle.json()["entry"]]
    assert len(reports) == 1
    report = reports[0]
    assert report["meta"]["tag"][0]["code"] == own
    assert report["identifier"][0]["value"] == f"DQ:2026-02:{own}"
    assert report["group"][0]["id"] == "overall"
    rules = shared.http.get("/dq/rules", headers=hospital).json()
    assert len(rules["rules"]) == len(shared.rules.checks)
