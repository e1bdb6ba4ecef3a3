"""The console's data-quality page over HTTP: roles, tenancy, exports equal to the report, audit.

A small defect region (``vte-facade synth --defects`` machinery: 2 hospitals and the steady-volume
hospital) goes once through the real gateway and intake on a simulated clock; the page is then
compared with ``QualityService.report`` of the same app.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from console_kit import Account, account, sign_in_http
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from quality_kit import Replayed, replayed
from sqlalchemy import select

from facade.audit.tables import AuditRecord
from facade.console.users import UserStore
from facade.db import Database
from facade.settings import Settings

PERIOD = "2026-Q1"
PAGE = "/console/data-quality"
TEST_HAPI_PORT = int(os.environ.get("VTE_TEST_HAPI_PORT", "8091"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    where = tmp_path_factory.mktemp("console-dq")
    settings = Settings(
        environment="test",
        var_dir=where,
        fhir_base_url=f"http://127.0.0.1:{TEST_HAPI_PORT}/fhir",
        database_url=f"sqlite:///{where / 'facade.db'}",
    )
    database = Database(settings.database_url)
    database.upgrade()
    with replayed(settings, database, seed=5, encounters=16) as replay:
        yield replay
    database.dispose()


@pytest.fixture(scope="module")
def people(run: Replayed) -> dict[str, Account]:
    store = UserStore(run.service.settings, run.service.reports.database)
    own = run.defects.hospitals[0].org_code
    return {
        "qc": account(store, "dq-qc", "qc"),
        "hospital": account(store, "dq-ward", "hospital", org=own),
        "admin": account(store, "dq-admin", "admin"),
    }


def browser(run: Replayed, people: dict[str, Account], role: str) -> TestClient:
    """A client of the replay's app signed in as ``role`` (cookies of its own)."""
    client = TestClient(run.http.app, follow_redirects=False)
    sign_in_http(client, people[role])
    return client


def main(html: str) -> str:
    """The page's main part (the header repeats the URL in its language link)."""
    return html[html.index("<main>") : html.index("</main>")]


def rows(html: str, grid: str) -> list[list[str]]:
    """A table's cells as text, as the page shows them."""
    body = re.search(rf'<table class="grid" id="grid-{grid}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table {grid}"
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def chart(html: str, name: str) -> dict[str, Any]:
    """The ECharts option embedded for a chart."""
    found = re.search(rf'<script type="application/json" id="option-{name}">(.*?)</script>', html)
    assert found, f"no chart {name}"
    option: dict[str, Any] = json.loads(found.group(1))
    return option


def exported(client: TestClient, **params: str) -> list[list[Any]]:
    response = client.get(f"{PAGE}/export", params=params)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.active.iter_rows(min_row=2, values_only=True)]


def test_qc_sees_the_region_compared_and_any_hospital(
    run: Replayed, people: dict[str, Account]
) -> None:
    client = browser(run, people, "qc")
    report = run.service.report(PERIOD)
    page = client.get(PAGE, params={"period": PERIOD})
    assert page.status_code == 200
    assert 'data-nav="dq"' in page.text
    shown = {r[1]: r for r in rows(page.text, "hospitals")}
    assert set(shown) == {h.org_code for h in run.defects.hospitals}
    for hospital in report["hospitals"]:
        row = shown[hospital["orgCode"]]
        assert row[0] == str(hospital["rank"]) and row[3] == str(hospital["overall"])
    bars = chart(page.text, "hospitals")
    by_name = {h["name"]: h["overall"] for h in report["hospitals"]}
    assert dict(zip(bars["yAxis"]["data"], bars["series"][0]["data"], strict=True)) == by_name
    assert bars["series"][0]["markLine"]["data"][0]["xAxis"] == report["overall"]["score"]
    dims = chart(page.text, "dimensions")
    assert dims["series"][0]["data"] == [d["score"] for d in report["dimensions"]]
    assert dims["series"][1]["data"] == [d["previous"] for d in report["dimensions"]]
    problem = report["topProblems"][0]
    assert problem["hospitals"]  # the region lists hospitals, never record ids
    assert all(
        r["recordId"] not in main(page.text)
        for p in run.service.report(PERIOD, problem["hospitals"][0]["orgCode"])["topProblems"]
        for r in p.get("records", [])
        if len(r["recordId"]) > 6
    )
    other = run.defects.hospitals[1].org_code
    one = client.get(PAGE, params={"period": PERIOD, "org": other})
    assert one.status_code == 200
    mine = run.service.report(PERIOD, other)
    assert f'data-field="rank">{mine["rank"]["position"]}<' in one.text
    assert f'data-field="overall">{mine["overall"]["score"]}<' in one.text
    assert rows(one.text, "problems")[0][0] == mine["topProblems"][0]["rule"]
    assert (
        client.get(PAGE, params={"period": PERIOD, "org": "123301000000000000"}).status_code == 404
    )


def test_a_hospital_sees_itself_and_nothing_of_the_others(
    run: Replayed, people: dict[str, Account]
) -> None:
    client = browser(run, people, "hospital")
    own, *others = (h.org_code for h in run.defects.hospitals)
    names = {h.org_code: h.name for h in run.defects.hospitals}
    page = client.get(PAGE, params={"period": PERIOD})
    assert page.status_code == 200
    report = run.service.report(PERIOD, own)
    assert f'data-field="overall">{report["overall"]["score"]}<' in page.text
    assert f'data-field="rank">{report["rank"]["position"]}<' in page.text
    assert 'id="grid-hospitals"' not in page.text and 'name="org"' not in page.text
    for other in others:  # other hospitals' codes and names are markers that must not appear
        assert other not in page.text and names[other] not in page.text
    problems = rows(page.text, "problems")
    assert [r[0] for r in problems] == [p["rule"] for p in report["topProblems"]]
    for row, problem in zip(problems, report["topProblems"], strict=True):
        listed = problem.get("records", [])
        assert all(r["recordId"] in row[9] for r in listed)
    for other in others:
        for path in (PAGE, f"{PAGE}/export", f"{PAGE}/workbook"):
            refused = client.get(path, params={"period": PERIOD, "org": other, "table": "problems"})
            assert refused.status_code == 403, path
            assert 'data-error="403"' in refused.text
            assert other not in main(refused.text) and names[other] not in refused.text
    assert client.get(PAGE, params={"period": PERIOD, "org": own}).status_code == 200


def test_exports_and_the_workbook_equal_the_report(
    run: Replayed, people: dict[str, Account]
) -> None:
    hospital = browser(run, people, "hospital")
    own = run.defects.hospitals[0].org_code
    report = run.service.report(PERIOD, own)
    problems = exported(hospital, period=PERIOD, table="problems")
    assert [(r[0], r[5], r[6]) for r in problems] == [
        (p["rule"], p["count"], p["denominator"]) for p in report["topProblems"]
    ]
    dimensions = exported(hospital, period=PERIOD, table="dimensions")
    assert [r[1] for r in dimensions] == [
        *(d["score"] for d in report["dimensions"]),
        report["overall"]["score"],
    ]
    refusals = exported(hospital, period=PERIOD, table="refusals")
    assert [tuple(r) for r in refusals] == [
        (f["code"], f["rule"], f["count"]) for f in report["refusals"]
    ]
    book = hospital.get(f"{PAGE}/workbook", params={"period": PERIOD})
    assert book.status_code == 200
    assert f'filename="vte-dq-{PERIOD}-{own}.xlsx"' in book.headers["content-disposition"]
    sheets = load_workbook(io.BytesIO(book.content), read_only=True)
    listed = {(row[2], row[3]) for row in sheets["问题记录"].iter_rows(min_row=2, values_only=True)}
    shown = {
        (r["recordType"], r["recordId"])
        for p in report["topProblems"]
        for r in p.get("records", [])
    }
    assert shown and shown <= listed
    qc = browser(run, people, "qc")
    region = run.service.report(PERIOD)
    hospitals = exported(qc, period=PERIOD, table="hospitals")
    assert [(r[0], r[1], r[3], r[4]) for r in hospitals] == [
        (h["rank"], h["orgCode"], h["overall"], h["grade"]) for h in region["hospitals"]
    ]
    whole = qc.get(f"{PAGE}/workbook", params={"period": PERIOD})
    assert load_workbook(io.BytesIO(whole.content), read_only=True).sheetnames == [
        "概要",
        "医院",
        "问题",
        "规则",
        "拒收",
    ]
    unknown = qc.get(f"{PAGE}/export", params={"period": PERIOD, "table": "stays"})
    assert unknown.status_code == 400 and "table" in unknown.text


def _audited(run: Replayed, username: str) -> list[dict[str, Any]]:
    """The console's AuditEvents of one person: outcome, query text and extra details."""
    with run.service.reports.database.session() as session:
        bodies = session.scalars(
            select(AuditRecord.body).where(
                AuditRecord.door == "console", AuditRecord.client_id == username
            )
        ).all()
    found = []
    for body in bodies:
        event = orjson.loads(body)
        entities = event.get("entity", [])
        found.append(
            {
                "outcome": event["outcome"],
                "subtype": event["subtype"][0]["code"],
                "query": " ".join(
                    base64.b64decode(e["query"]).decode() for e in entities if "query" in e
                ),
                **{e["name"]: e["detail"][0]["valueString"] for e in entities if "detail" in e},
            }
        )
    return found


def test_every_view_and_refusal_is_audited(run: Replayed, people: dict[str, Account]) -> None:
    ward = browser(run, people, "hospital")
    own, other = run.defects.hospitals[0].org_code, run.defects.hospitals[1].org_code
    month = "2026-02"  # a period no other test asks for
    assert ward.get(PAGE, params={"period": month, "org": other}).status_code == 403
    assert ward.get(f"{PAGE}/export", params={"period": month, "table": "refusals"}).is_success
    events = [e for e in _audited(run, "dq-ward") if f"period={month}" in e["query"]]
    refused = [e for e in events if e["outcome"] == "4"]
    assert len(refused) == 1 and f"org={other}" in refused[0]["query"]
    assert refused[0]["subtype"] == "operation"
    assert "scope" not in refused[0]  # refused before anything was read
    export = [e for e in events if e.get("export") == "refusals"]
    assert len(export) == 1 and len(events) == 2
    assert export[0]["outcome"] == "0" and export[0]["scope"] == own
    assert export[0]["period"] == month


def test_other_roles_bad_periods_and_english(run: Replayed, people: dict[str, Account]) -> None:
    admin = browser(run, people, "admin")
    assert admin.get(PAGE).status_code == 403
    assert 'data-nav="dq"' not in admin.get("/console/submissions").text
    qc = browser(run, people, "qc")
    now = datetime.fromtimestamp(run.clock(), run.rules.config.tz)
    current = f"{now.year}-Q{(now.month - 1) // 3 + 1}"  # the quarter the service's clock is in
    assert f'<option value="{current}" selected>' in qc.get(PAGE).text
    bad = qc.get(PAGE, params={"period": "2026-Q5"})
    assert bad.status_code == 400 and "<code>period</code>" in bad.text
    qc.get("/console/language", params={"set": "en", "next": PAGE})
    english = qc.get(PAGE, params={"period": PERIOD})
    assert ">Data quality<" in english.text and "Completeness" in english.text
    assert "完整性" not in main(english.text)
