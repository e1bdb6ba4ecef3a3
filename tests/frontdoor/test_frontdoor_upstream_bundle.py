"""What the FHIR door sends HAPI for a hospital's stay Bundle: exactly the ingest benchmark's baseline.

``python -m bench ingest`` (part ``fhir``) compares the door with posting "the same Bundles"
straight to HAPI; its baseline rebuilds them offline (``bench.ingest_fhir.as_forwarded``). This
test records what the door really sends (a recording transport in place of HAPI) and requires
the two to be equal, so the comparison stays fair if the door ever changes what it forwards.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from frontdoor_stay import resident_id, stay_bundle
from smart_kit import admitted_org, get_token, register

from bench.ingest_fhir import SCOPE, as_forwarded
from facade.app import create_app
from facade.db import Database
from facade.settings import Settings, ensure_secrets
from facade.upstream import UpstreamClient


def test_the_door_forwards_what_the_benchmark_posts_straight_to_hapi(
    settings: Settings, database: Database
) -> None:
    settings = ensure_secrets(settings)
    sent: list[dict[str, Any]] = []

    def hapi(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # ownership look-ups: nothing stored yet
            return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"})
        body = orjson.loads(request.content)
        sent.append(body)
        answer = [
            {"response": {"status": "201 Created", "location": f"{e['request']['url']}/{n}"}}
            for n, e in enumerate(body["entry"])
        ]
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "transaction-response", "entry": answer}
        )

    org = admitted_org(database)
    client = register(database, "hospital", org=org, scopes=SCOPE)
    bundle = stay_bundle(org, resident_id())
    upstream = UpstreamClient(settings, transport=httpx.MockTransport(hapi))
    with TestClient(create_app(settings, database=database, upstream=upstream)) as door:
        token = get_token(door, client, settings.public_base_url, SCOPE)
        answer = door.post(
            "/fhir", json=copy.deepcopy(bundle), headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    (forwarded,) = sent
    baseline = as_forwarded(settings, org, bundle)
    assert forwarded == baseline
    # The comparison is not vacuous: the door rewrote the hospital's Bundle on the way.
    assert forwarded != stay_bundle(org, resident_id()) and len(forwarded["entry"]) >= 10
    patient = next(e for e in forwarded["entry"] if e["resource"]["resourceType"] == "Patient")
    assert "urn:oid:2.16.156.10011.1.3" not in orjson.dumps(patient).decode()
