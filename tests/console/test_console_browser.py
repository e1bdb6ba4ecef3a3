"""The console in Debian's Chromium against the real HAPI, with a small synthetic region.

One region (3 hospitals, 48 stays) goes through the real pipeline into HAPI, its indicators are
published once, then a real browser signs in (TOTP for admin and auditor), opens every page,
reads the charts' series back from ECharts and compares them with the MeasureReports in HAPI,
drills down, exports, and tries what must be refused. Screenshots of every page are written to
var/test-artifacts/console/ (git-ignored). The last test adds a data-quality defect region through
the real gateway (simulated clock) and compares the data-quality page with QualityService.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from console_kit import CHROMIUM, CHROMIUM_ARGS, Account, account, free_port, fresh_code, serving
from live_region import live_settings, push_regions
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, sync_playwright
from quality_kit import replayed
from sqlalchemy import select

from facade.app import create_app
from facade.console.users import UserStore
from facade.db import Database
from facade.indicators.report import REPORT_IDENTIFIER_SYSTEM, region_key
from facade.indicators.service import catalog, evaluate_and_publish
from facade.native.tables import IntakeRecord, NativeOrg
from facade.quality.service import QualityService
from facade.settings import Settings
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.truth import expected
from facade.upstream import UpstreamClient

pytestmark = pytest.mark.integration
PERIOD = "2026-Q1"
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "console"


@dataclass
class Live:
    base: str
    settings: Settings
    database: Database
    region: Region
    users: dict[str, Account]
    browser: Browser
    used_codes: set[str] = field(default_factory=set)

    @property
    def orgs(self) -> list[str]:
        return self.region.org_codes


@pytest.fixture(scope="module")
def live(
    fhir_base_url: str, ig_loaded: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    assert ig_loaded.get("Measure", 0) >= 12
    run = uuid.uuid4().hex[:10]
    region = generate(RegionSpec(seed=31, hospitals=3, encounters=48, run=run))
    port = free_port()
    settings = live_settings(fhir_base_url, tmp_path_factory.mktemp("console-live"))
    settings = settings.model_copy(
        update={
            "indicator_region": region.org_codes,
            "indicator_refresh_times": [],
            "public_base_url": f"http://127.0.0.1:{port}",
        }
    )
    database = Database(settings.database_url)
    database.upgrade()
    push_regions(settings, database, [region])
    asyncio.run(_publish(settings, region.org_codes))
    store = UserStore(settings, database)
    users = {
        "admin": account(store, f"admin-{run}", "admin"),
        "qc": account(store, f"qc-{run}", "qc"),
        "hospital": account(store, f"hosp-{run}", "hospital", org=region.org_codes[0]),
        "auditor": account(store, f"audit-{run}", "auditor"),
    }
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    # The region is in HAPI already (push_regions waited for it); records the data-quality test
    # sends later are about intake counters and stay there.
    served = create_app(settings.model_copy(update={"forward_enabled": False}), database=database)
    with serving(served, port) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield Live(base, settings, database, region, users, browser)
        finally:
            browser.close()
    database.dispose()


async def _publish(settings: Settings, orgs: list[str]) -> None:
    upstream = UpstreamClient(settings)
    try:
        await evaluate_and_publish(settings, upstream, PERIOD, region=orgs)
    finally:
        await upstream.aclose()


def report(live: Live, indicator: str, scope: str) -> dict[str, Any]:
    """A stored MeasureReport, read straight from HAPI (not through the console)."""
    token = f"{REPORT_IDENTIFIER_SYSTEM}|{indicator}:{PERIOD}:{scope}"
    bundle = httpx.get(
        f"{live.settings.fhir_base_url}/MeasureReport", params={"identifier": token}, timeout=60
    ).json()
    assert bundle.get("total", len(bundle.get("entry", []))) == 1, token
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def counts(populations: list[dict[str, Any]]) -> dict[str, int]:
    return {p["code"]["coding"][0]["code"]: p["count"] for p in populations}


def percent(c: dict[str, int]) -> float | None:
    denominator = c.get("denominator", 0) - c.get("denominator-exclusion", 0)
    return None if denominator <= 0 else round(c.get("numerator", 0) / denominator * 100, 2)


def new_page(live: Live) -> Page:
    context = live.browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN"
    )
    return context.new_page()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def sign_in(live: Live, page: Page, role: str, *, shots: bool = False) -> None:
    who = live.users[role]
    page.goto(f"{live.base}/console/login")
    if shots:
        shot(page, "01-login")
    page.fill("input[name=username]", who.username)
    page.fill("input[name=password]", who.password)
    page.click("form[action='/console/login'] button[type=submit]")
    if who.totp_secret:
        page.wait_for_url("**/console/login/totp**")
        if shots:
            shot(page, "02-totp")
        page.fill("input[name=code]", fresh_code(who.totp_secret, live.used_codes))
        page.click("form[action='/console/login/totp'] button[type=submit]")
    page.wait_for_selector("header nav")


def chart_option(page: Page, name: str) -> dict[str, Any]:
    """The option ECharts holds for a chart (after the page drew it)."""
    page.wait_for_function(
        "(id) => { const el = document.getElementById(id);"
        " return el && window.echarts && echarts.getInstanceByDom(el); }",
        arg=f"chart-{name}",
    )
    option: dict[str, Any] = page.evaluate(
        "(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption()",
        f"chart-{name}",
    )
    return option


def table(page: Page, grid: str) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f"#grid-{grid} tbody tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))",
    )
    return rows


def test_admin_signs_in_with_totp_and_a_new_credential_is_shown_once(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "admin", shots=True)
    assert [a.get_attribute("data-nav") for a in page.query_selector_all("header nav a")] == [
        "submissions",
        "registry",
    ]
    page.goto(f"{live.base}/console/registry")
    codes = set(table(page, "institutions")[i][0] for i in range(len(table(page, "institutions"))))
    assert set(live.orgs) <= codes
    page.click("#issue-box summary")
    page.select_option("#issue-form select[name=org_code]", live.orgs[1])
    page.fill("#issue-form input[name=name]", "第二套系统")
    page.click("#issue-form button[type=submit]")
    secret = page.text_content("[data-secret] [data-field=appSecret]")
    app_id = page.text_content("[data-secret] [data-field=appId]")
    assert secret and len(secret) == 64 and app_id
    shot(page, "03-registry-secret")
    page.goto(f"{live.base}/console/registry")
    assert page.query_selector("[data-secret]") is None
    assert secret not in page.content()
    assert app_id in [row[0] for row in table(page, "apps")]


def test_indicator_charts_show_the_published_reports(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "qc")
    page.goto(f"{live.base}/console/indicators?period={PERIOD}&indicator=A1")
    key = region_key(live.orgs)
    stored = report(live, "A1", key)
    group = stored["group"][0]
    region_value = percent(counts(group["population"]))
    hospitals = {
        s["value"]["coding"][0]["code"]: percent(counts(s["population"]))
        for stratifier in group["stratifier"]
        if stratifier["code"][0]["coding"][0]["code"] == "hospital"
        for s in stratifier["stratum"]
    }
    assert set(hospitals) == set(live.orgs)
    bars = chart_option(page, "hospitals")
    with live.database.session() as session:
        names = dict(session.execute(select(NativeOrg.org_code, NativeOrg.name)).all())
    by_name = {names[code]: value for code, value in hospitals.items()}
    shown = dict(zip(bars["yAxis"][0]["data"], bars["series"][0]["data"], strict=True))
    assert shown == by_name
    assert list(shown.values()) == sorted(shown.values())  # best hospital drawn at the top
    assert bars["series"][0]["markLine"]["data"][0]["xAxis"] == region_value
    trend = chart_option(page, "trend")
    assert trend["xAxis"][0]["data"][-1] == PERIOD
    assert trend["series"][0]["data"][-1] == region_value
    overview = {row[0]: row for row in table(page, "overview")}
    for indicator_id, row in overview.items():
        c = counts(report(live, indicator_id, key)["group"][0]["population"])
        assert int(row[3]) == c["numerator"], indicator_id
        assert int(row[4]) == c["denominator"] - c.get("denominator-exclusion", 0), indicator_id
    shot(page, "04-indicators-region")


def test_drill_down_lists_the_stays_behind_a_number_and_exports_them(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "qc")
    org = live.orgs[1]
    page.goto(f"{live.base}/console/indicators?period={PERIOD}&indicator=A1")
    page.click(f"#grid-hospitals a[href*='org={org}']:not([href*='stays'])")
    page.wait_for_url(f"**org={org}**")
    shot(page, "05-indicators-hospital")
    page.click("#grid-overview tbody tr:first-child td:nth-child(4) a")
    page.wait_for_url("**/console/indicators/stays**")
    shot(page, "06-stays")
    rows = table(page, "stays")
    truth = expected(live.region.records(), catalog(live.settings).definitions, PERIOD, ["A1"])
    numerator = truth["A1"].orgs[org].populations["numerator"]
    assert numerator > 0 and len(rows) == numerator
    assert page.get_attribute("p.summary", "data-published") == str(numerator)
    assert all(row[0].startswith("t-") for row in rows)  # QC sees keyed tokens, never record ids
    assert all(row[1].startswith("Encounter/") for row in rows)
    with page.expect_download() as download:
        page.click("a[data-export=stays]")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    exported = [[str(v) for v in r] for r in book.active.iter_rows(min_row=2, values_only=True)]
    assert exported == rows


def test_a_hospital_user_cannot_reach_another_hospitals_stays(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "hospital")
    own, other = live.orgs[0], live.orgs[2]
    answer = page.goto(f"{live.base}/console/indicators?period={PERIOD}")
    assert answer is not None and answer.status == 200
    assert page.query_selector("#grid-hospitals") is None  # no comparison with other hospitals
    base_stays = (
        f"{live.base}/console/indicators/stays?period={PERIOD}&indicator=A1&population=denominator"
    )
    own_page = page.goto(f"{base_stays}&org={own}")
    assert own_page is not None and own_page.status == 200
    own_rows = table(page, "stays")
    assert own_rows and not any(r[0].startswith("t-") for r in own_rows)  # its own record ids
    for url in (
        f"{base_stays}&org={other}",
        f"{live.base}/console/indicators?period={PERIOD}&org={other}",
        f"{live.base}/console/indicators/export?table=overview&period={PERIOD}&org={other}",
        f"{live.base}/console/submissions?org={other}",
        f"{live.base}/console/data-quality?period={PERIOD}&org={other}",
        f"{base_stays}&org={own}&department={quote(other + '/x')}",
    ):
        refused = page.goto(url)
        assert refused is not None and refused.status in (400, 403), url
        assert other not in page.inner_text("main").replace(url, "")
    shot(page, "07-refused")
    assert page.goto(f"{live.base}/console/registry").status == 403  # type: ignore[union-attr]


def test_a_form_posted_without_its_csrf_token_is_refused(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "admin")
    org = live.orgs[2]
    page.goto(f"{live.base}/console/registry")
    form = f"form[action='/console/registry/orgs/{org}/status']"
    page.eval_on_selector(form, "f => f.querySelector('input[name=csrf_token]').remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(f"{form} button")
    assert posted.value.status == 403
    forged = page.request.post(
        f"{live.base}/console/registry/orgs/{org}/status",
        form={"active": "no", "csrf_token": "forged"},
    )
    assert forged.status == 403
    with live.database.session() as session:
        status = session.scalar(select(NativeOrg.status).where(NativeOrg.org_code == org))
    assert status == "active"


def test_submissions_show_what_each_hospital_sent(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "qc")
    page.goto(f"{live.base}/console/submissions?days=90")
    sent = {
        org: sum(len(items) for items in kinds.values())
        for org, kinds in live.region.records().items()
    }
    rows = {row[0]: row for row in table(page, "hospitals")}
    for org, total in sent.items():
        assert int(rows[org][8]) == total  # stored: every record reached HAPI
    daily = chart_option(page, "daily")
    series = {s["id"]: s["data"] for s in daily["series"]}
    with live.database.session() as session:
        receipts = session.scalars(select(IntakeRecord.org_code)).all()
    assert sum(series["accepted"]) + sum(series["refused"]) >= sum(sent.values())
    assert sum(series["accepted"]) == len(receipts)
    shot(page, "08-submissions")
    page.click("a[data-link=failed]")
    page.wait_for_url("**/console/submissions/records**")
    shot(page, "09-records-failed")


def test_recompute_republishes_the_period(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "qc")
    org = live.orgs[0]
    before = report(live, "A1", org)["meta"]["versionId"]
    page.goto(f"{live.base}/console/indicators?period={PERIOD}&org={org}")
    page.click("form.recompute button")
    page.wait_for_selector("[data-job]")
    deadline = time.monotonic() + 240
    while page.get_attribute("[data-job]", "data-state") not in ("done", "failed"):
        assert time.monotonic() < deadline, "recompute did not finish"
        time.sleep(1)
        page.reload()
    assert page.get_attribute("[data-job]", "data-state") == "done"
    assert report(live, "A1", org)["meta"]["versionId"] != before


def test_the_auditor_finds_every_page_view_and_refusal(live: Live) -> None:
    page = new_page(live)
    sign_in(live, page, "auditor")
    hospital = live.users["hospital"].username
    page.fill("input[name=who]", hospital)
    page.select_option("select[name=outcome]", "4")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#grid-events")
    rows = table(page, "events")
    assert rows and all(row[1] == hospital for row in rows)
    assert any("/console/indicators/stays" in row[5] and "org=" in row[5] for row in rows)
    shot(page, "10-audit")
    with page.expect_download() as download:
        page.click("a[data-export=events]")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.active.max_row - 1 >= len(rows)
    page.goto(f"{live.base}/console/language?set=en&next=/console/audit")
    assert page.inner_text("header nav") == "Audit"


def test_the_data_quality_page_shows_the_service_report(live: Live) -> None:
    with replayed(live.settings, live.database, seed=6, encounters=12) as run:
        added = {h.org_code for h in run.defects.hospitals}
    page = new_page(live)
    sign_in(live, page, "qc")
    page.goto(f"{live.base}/console/data-quality?period={PERIOD}")
    report = QualityService(live.settings, live.database).report(PERIOD)
    assert added | set(live.orgs) <= {h["orgCode"] for h in report["hospitals"]}
    bars = chart_option(page, "hospitals")
    # Two synthetic regions: hospital names repeat, so pairs are compared, not a dict.
    shown = list(zip(bars["yAxis"][0]["data"], bars["series"][0]["data"], strict=True))
    assert sorted(shown) == sorted(
        (h["name"], h["overall"]) for h in report["hospitals"] if h["overall"] is not None
    )
    assert [v for _, v in shown] == sorted(v for _, v in shown)  # the best drawn at the top
    assert bars["series"][0]["markLine"]["data"][0]["xAxis"] == report["overall"]["score"]
    dimensions = chart_option(page, "dimensions")
    assert [s["data"] for s in dimensions["series"]] == [
        [d["score"] for d in report["dimensions"]],
        [d["previous"] for d in report["dimensions"]],
    ]
    assert [row[1] for row in table(page, "hospitals")] == [
        h["orgCode"] for h in report["hospitals"]
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    shot(page, "11-data-quality")
