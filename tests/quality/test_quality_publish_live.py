"""Data-quality MeasureReports stored in the real HAPI server: valid against the profile, replaced on re-publication."""

from __future__ import annotations

import httpx
import pytest
from quality_kit import Replayed
from smart_kit import get_token, register

pytestmark = pytest.mark.integration


def test_publish_validates_and_replaces(
    shared: Replayed, fhir_base_url: str, ig_loaded: dict[str, int]
) -> None:
    assert ig_loaded.get("StructureDefinition")
    qc = register(shared.service.reports.database, "qc")
    token = get_token(shared.http, qc, shared.service.settings.public_base_url, "system/*.rs")
    headers = {"Authorization": f"Bearer {token}"}
    first = shared.http.post("/dq/$publish", params={"period": "2026-02"}, headers=headers)
    assert first.status_code == 200, first.text
    stored = first.json()["measureReports"]
    assert len(stored) == 1 + len(shared.defects.hospitals)  # the region and every hospital
    again = shared.http.post("/dq/$publish", params={"period": "2026-02"}, headers=headers)
    assert sorted(again.json()["measureReports"]) == sorted(stored)
    org = shared.defects.hospitals[0].org_code
    found = httpx.get(
        f"{fhir_base_url}/MeasureReport",
        params={"identifier": f"https://fhir.vte-region.cn/ig/sid/measure-report|DQ:2026-02:{org}"},
        timeout=60,
    ).json()
    assert found["total"] == 1
    report = found["entry"][0]["resource"]
    assert report["meta"]["profile"] == [
        "https://fhir.vte-region.cn/ig/StructureDefinition/vte-dq-measurereport"
    ]
    expected = shared.service.report("2026-02", org)
    assert report["group"][0]["measureScore"]["value"] == round(
        expected["overall"]["score"] / 100, 6
    )
    # a hospital publishes only its own report
    hospital = register(shared.service.reports.database, "hospital", org=org)
    own = get_token(shared.http, hospital, shared.service.settings.public_base_url, "system/*.rs")
    mine = shared.http.post(
        "/dq/$publish", params={"period": "2026-02"}, headers={"Authorization": f"Bearer {own}"}
    )
    assert mine.status_code == 200 and len(mine.json()["measureReports"]) == 1
