"""``GET /submissions/...`` for API clients: qc sees every hospital, a hospital only itself."""

from __future__ import annotations

from fastapi.testclient import TestClient
from smart_kit import get_token, register
from submissions_kit import Filled

from facade.app import create_app


def test_the_json_api_lists_within_the_callers_scope(filled: Filled) -> None:
    first, second = filled.orgs
    app = create_app(filled.settings, database=filled.database, record_processor=None)
    with TestClient(app) as http:
        base = filled.settings.public_base_url
        qc = register(filled.database, "qc")
        hospital = register(filled.database, "hospital", org=second, scopes="system/Encounter.rs")
        as_qc = {"Authorization": f"Bearer {get_token(http, qc, base, 'system/*.rs')}"}
        as_hospital = {
            "Authorization": f"Bearer {get_token(http, hospital, base, 'system/Encounter.rs')}"
        }
        failed = http.get("/submissions/receipts?status=failed", headers=as_qc).json()["records"]
        assert {r["stage"] for r in failed} == {"intake", "storage"}
        batches = http.get(f"/submissions/batches?org={first}", headers=as_qc).json()["batches"]
        assert any(b["batchNo"] == "B-CASES-1" for b in batches)
        workbook = http.get(f"/submissions/imports/{filled.import_id}/errors", headers=as_qc)
        assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
        assert http.get(f"/submissions/batches?org={first}", headers=as_hospital).status_code == 403
        own = http.get("/submissions/batches", headers=as_hospital).json()["batches"]
        assert own == []
        other = http.get(f"/submissions/imports/{filled.import_id}/errors", headers=as_hospital)
        assert other.status_code == 404
        assert http.get("/submissions/batches").status_code == 401
