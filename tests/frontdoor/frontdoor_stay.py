"""A complete inpatient stay as a transaction Bundle, built from the implementation guide's examples.

Every stay gets its own organisation code, identity number and record numbers, so tests on the
shared HAPI server never see each other's data.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smart_kit import SystemClient

from facade.ig.loader import example_resources

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "profiles" / "fsh-generated" / "resources"
EXAMPLE_ORG = "12330100470116614F"
RESIDENT_ID_SYSTEM = "urn:oid:2.16.156.10011.1.3"
# ``bearer(client, scope)`` -> Authorization header (fixture in conftest.py)
Bearer = Callable[[SystemClient, str], dict[str, str]]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(rng: random.Random | None = None) -> str:
    """A random identity number with a valid GB 11643 check character."""
    rng = rng or random.Random()
    body = f"{rng.choice(['110105', '330106', '440304'])}{rng.randint(1930, 2005)}{rng.randint(1, 12):02d}"
    body += f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def stay_resources(org: str) -> list[dict[str, Any]]:
    """The guide's examples of one stay (no MeasureReport), re-homed to ``org``."""
    text = json.dumps(
        [r for r in example_resources(EXAMPLES) if r["resourceType"] != "MeasureReport"]
    )
    return list(json.loads(text.replace(EXAMPLE_ORG, org)))


def stay_bundle(org: str, id_number: str, *, case_no: str | None = None) -> dict[str, Any]:
    """A transaction Bundle of one complete stay with the identity number in clear (as a hospital sends it)."""
    resources = stay_resources(org)
    full_urls = {f"{r['resourceType']}/{r['id']}": f"urn:uuid:{uuid.uuid4()}" for r in resources}
    case_no = case_no or f"ZY{uuid.uuid4().hex[:10].upper()}"
    entries = []
    for resource in resources:
        key = f"{resource['resourceType']}/{resource.pop('id')}"
        resource["meta"].pop("tag", None)
        request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
        if resource["resourceType"] == "Patient":
            resource["identifier"] = [{"system": RESIDENT_ID_SYSTEM, "value": id_number}]
            request["ifNoneExist"] = f"identifier={RESIDENT_ID_SYSTEM}|{id_number}"
        elif resource["resourceType"] == "Organization":
            request["ifNoneExist"] = f"identifier=https://fhir.vte-region.cn/ig/sid/org-uscc|{org}"
        elif resource["resourceType"] == "Encounter":
            resource["identifier"][0]["value"] = case_no
        elif resource["resourceType"] == "RiskAssessment":
            _ig_codings_only(resource)
        entries.append({"fullUrl": full_urls[key], "resource": resource, "request": request})
    text = json.dumps(
        {"resourceType": "Bundle", "type": "transaction", "entry": entries}, ensure_ascii=False
    )
    for old, new in full_urls.items():
        text = text.replace(f'"reference": "{old}"', f'"reference": "{new}"')
    bundle: dict[str, Any] = json.loads(text)
    return bundle


def _ig_codings_only(assessment: dict[str, Any]) -> None:
    """Keep only the guide's own coding in prediction.qualitativeRisk.

    HAPI 8.8's validator rejects the guide's VTE risk-assessment example when the required
    vte-risk-level coding is accompanied by a terminology.hl7.org risk-probability coding (that
    CodeSystem is not loaded offline): "None of the codings provided are in the value set".
    Reported to the IG owner; the door itself forwards whatever the hospital sends.
    """
    for prediction in assessment.get("prediction", []):
        risk = prediction.get("qualitativeRisk") or {}
        ours = [
            c
            for c in risk.get("coding", [])
            if c.get("system", "").startswith("https://fhir.vte-region.cn/")
        ]
        if ours:
            risk["coding"] = ours


def entry_index(bundle: dict[str, Any], resource_type: str) -> int:
    """Index of the first entry of a type."""
    return next(
        i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == resource_type
    )
