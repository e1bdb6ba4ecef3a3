"""Leak test through the FHIR door and the real HAPI: markers everywhere, read back by QC and research.

A hospital posts, as one transaction, a resource of every profile it may write (every choice
variant) with a unique marker in every element path (tests/marker_kit.py, generated from the
StructureDefinitions). What HAPI stored is read back as the hospital. Then QC and a researcher read
everything through every read interaction: read by id, search, paging, _include/_revinclude,
vread and instance/type history where the role has them (research gets 403 there). No response
may contain a marker the role's view does not declare visible, and every stored marker the view
declares visible must show up somewhere.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from frontdoor_stay import RESIDENT_ID_SYSTEM, Bearer, resident_id, stay_bundle, stay_resources
from marker_kit import Codes, Generator, Marked, Marker, MarkerFactory, Oracle
from smart_kit import admitted_org, register

from facade.db import Database
from facade.fhir.naming import REPORTING_ORG_TAG
from facade.ig.build import ensure_core_package
from facade.privacy.projector import Projector
from facade.privacy.viewdata import load_view_data
from facade.security.roles import POLICIES, Role, View
from facade.services import services_of
from facade.settings import Settings

pytestmark = pytest.mark.integration
CHUNK = 6  # resources per transaction
log = logging.getLogger("tests.leak")
EXAMPLE_REFS = {
    "Patient": "Patient/vte-patient-example",
    "Encounter": "Encounter/vte-encounter-example",
    "Organization": "Organization/vte-organization-example",
}
INCLUDES = {
    "Encounter": [
        ("_include", "Encounter:subject"),
        ("_include", "Encounter:service-provider"),
        ("_revinclude", "Condition:encounter"),
        ("_revinclude", "Procedure:encounter"),
        ("_revinclude", "RiskAssessment:encounter"),
        ("_revinclude", "Observation:encounter"),
        ("_revinclude", "MedicationAdministration:context"),
    ],
    "Patient": [("_revinclude", "Encounter:subject"), ("_revinclude", "Condition:subject")],
    "Condition": [("_include", "Condition:subject"), ("_include", "Condition:encounter")],
}


@dataclass
class Reads:
    """Every response body one role got, and how each interaction answered."""

    bodies: list[str] = field(default_factory=list)
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def add(self, interaction: str, response: Any) -> dict[str, Any]:
        self.bodies.append(response.text)
        self.statuses.setdefault(interaction, set()).add(response.status_code)
        body: dict[str, Any] = response.json()
        return body


def _stored_refs(response: dict[str, Any]) -> dict[str, str]:
    refs = {}
    for entry in response["entry"]:
        rtype, rid = entry["response"]["location"].split("/")[:2]
        refs.setdefault(rtype, f"{rtype}/{rid}")
    return refs


def _baselines(org: str, refs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The guide's examples of this organisation, pointing at the stored stay."""
    text = json.dumps(stay_resources(org), ensure_ascii=False)
    for rtype, example in EXAMPLE_REFS.items():
        text = text.replace(f'"{example}"', f'"{refs[rtype]}"')
    return {r["meta"]["profile"][0]: r for r in json.loads(text)}


def _marked(projector: Projector, org: str, refs: dict[str, str]) -> list[Marked]:
    catalogue = projector.plans.catalogue
    writable = POLICIES[Role.HOSPITAL].write
    baselines = _baselines(org, refs)
    generator = Generator(
        catalogue,
        Codes(catalogue, ensure_core_package()),
        MarkerFactory(uuid.uuid4().int),
        refs,
        unknown_profile=False,  # HAPI refuses an unknown profile beside ours: it cannot be stored
    )
    out = []
    for url, profile in sorted(catalogue.profiles.items()):
        if profile.type not in writable:
            continue  # MeasureReports are the facade's own (the unit-level leak test covers them)
        for variant in range(generator.variants(profile)):
            item = generator.generate(profile, baselines[url], variant)
            if profile.type == "Patient":  # as hospitals send it: the identity number in clear
                item.resource["identifier"] = [
                    i for i in item.resource["identifier"] if "regional" not in i.get("system", "")
                ] + [{"system": RESIDENT_ID_SYSTEM, "value": resident_id()}]
            out.append(item)
    return out


def _transaction(marked: list[Marked]) -> dict[str, Any]:
    entries = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": item.resource,
            "request": {"method": "POST", "url": item.resource["resourceType"]},
        }
        for item in marked
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def settings_base(url: str) -> str:
    """The scheme and host of a facade link (the TestClient wants the path)."""
    return url[: url.index("/fhir")]


def _read_all(
    door: TestClient,
    headers: dict[str, str],
    org: str,
    stored: list[tuple[str, str]],
    projector: Projector,
    view: View,
    since: str,
) -> Reads:
    """Every read interaction of the FHIR door, as one role."""
    reads = Reads()
    tag = f"{REPORTING_ORG_TAG}|{org}"
    research = view is View.DEIDENTIFIED
    types = sorted({rtype for rtype, _ in stored})
    for rtype in types:
        reads.add(
            "search",
            door.get(f"/fhir/{rtype}", params={"_tag": tag, "_count": "200"}, headers=headers),
        )
        if rtype in INCLUDES:
            params = [("_tag", tag), ("_count", "200"), *INCLUDES[rtype]]
            reads.add("include", door.get(f"/fhir/{rtype}", params=params, headers=headers))
        history = door.get(f"/fhir/{rtype}/_history", params={"_since": since}, headers=headers)
        reads.add("history-type", history)
    # paging: the type with most resources, three per page, following the facade's next links
    most = max(types, key=lambda t: sum(1 for r, _ in stored if r == t))
    page = reads.add(
        "search", door.get(f"/fhir/{most}", params={"_tag": tag, "_count": "3"}, headers=headers)
    )
    while nxt := next((x["url"] for x in page.get("link", []) if x["relation"] == "next"), None):
        page = reads.add("page", door.get(nxt.removeprefix(settings_base(nxt)), headers=headers))
    first_of_type: set[str] = set()
    for rtype, rid in stored:
        shown_id = projector.research_id(rtype, rid) if research else rid
        reads.add("read", door.get(f"/fhir/{rtype}/{shown_id}", headers=headers))
        if rtype not in first_of_type:  # versions: one resource of each type is enough
            first_of_type.add(rtype)
            reads.add("vread", door.get(f"/fhir/{rtype}/{shown_id}/_history/1", headers=headers))
            reads.add("history", door.get(f"/fhir/{rtype}/{shown_id}/_history", headers=headers))
    return reads


def test_no_role_ever_sees_a_marker_its_view_does_not_declare(
    door: TestClient, database: Database, bearer: Bearer, settings: Settings
) -> None:
    started = time.monotonic()
    since = datetime.now(UTC).isoformat(timespec="seconds")
    projector: Projector = services_of(door.app).projector  # type: ignore[arg-type]
    org = admitted_org(database)
    hospital = register(database, "hospital", org=org, scopes="system/*.crus")
    hs = bearer(hospital, "system/*.crus")
    stay = door.post("/fhir", json=stay_bundle(org, resident_id()), headers=hs)
    assert stay.status_code == 200, stay.text
    marked = _marked(projector, org, _stored_refs(stay.json()))
    stored: list[tuple[str, str]] = []
    for start in range(0, len(marked), CHUNK):  # HAPI validates each: keep a request short
        written = door.post("/fhir", json=_transaction(marked[start : start + CHUNK]), headers=hs)
        assert written.status_code == 200, written.text[:3000]
        for entry in written.json()["entry"]:
            rtype, rid = entry["response"]["location"].split("/")[:2]
            stored.append((rtype, rid))
    assert len(stored) == len(marked)
    wrote = time.monotonic()

    # what HAPI kept: the hospital reads its own resources as stored
    own = [door.get(f"/fhir/{t}/{i}", headers=hs) for t, i in stored]
    assert all(r.status_code == 200 for r in own)
    kept: list[tuple[str, Marker]] = []
    for item, response in zip(marked, own, strict=True):
        kept += [
            (item.resource["resourceType"], m) for m in item.markers if m.found_in(response.text)
        ]
    paths = {m.path for _, m in kept}
    markers = sum(len(item.markers) for item in marked)
    assert len(kept) > 0.9 * markers, (len(kept), markers)

    oracle = Oracle(load_view_data(settings.mappings_dir / "views"))
    summary = {}
    for role, view in ((Role.QC, View.PSEUDONYMISED), (Role.RESEARCHER, View.DEIDENTIFIED)):
        client = register(database, role.value, scopes="system/*.rs")
        reads = _read_all(door, bearer(client, "system/*.rs"), org, stored, projector, view, since)
        everything = "\n".join(reads.bodies)
        leaked = sorted(
            {
                m.path
                for rtype, m in kept
                if not oracle.visible(view, rtype, m) and m.found_in(everything)
            }
        )
        assert not leaked, f"{role.value}: {len(leaked)} hidden element paths leaked: {leaked[:20]}"
        declared = [(r, m) for r, m in kept if oracle.visible(view, r, m)]
        missing = sorted({m.path for _, m in declared if not m.found_in(everything)})
        assert not missing, f"{role.value}: declared-visible paths never shown: {missing[:20]}"
        if view is View.DEIDENTIFIED:  # no history of any kind for research
            for interaction in ("vread", "history", "history-type"):
                assert reads.statuses[interaction] == {403}, (interaction, reads.statuses)
        else:
            assert all(s == {200} for s in reads.statuses.values()), reads.statuses
        summary[role.value] = {
            "responses": len(reads.bodies),
            "declared_visible": len(declared),
            "interactions": sorted(reads.statuses),
        }
    log.info(
        "leak test: %s resources, %s markers (%s stored) on %s element paths; %s; "
        "write %.1fs, reads %.1fs",
        len(marked),
        markers,
        len(kept),
        len(paths),
        summary,
        wrote - started,
        time.monotonic() - wrote,
    )
    assert len(paths) > 3000, len(paths)
