"""Leak test without HAPI: markers in every element path of every profile, projected directly.

The resources come from tests/marker_kit.py (generated from the StructureDefinitions). For each
view, a marker the view data does not declare visible must be absent from the projection, and
every marker it declares visible must be present (the views drop nothing they promise to show).
The live version, through the FHIR door and the real HAPI, is
tests/frontdoor/test_frontdoor_leak_live.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from marker_kit import Codes, Generator, Marked, MarkerFactory, Oracle, base_profile

from facade.ig.build import ensure_core_package
from facade.ig.loader import example_resources
from facade.privacy import walk
from facade.privacy.elements import Catalogue
from facade.privacy.plan import ViewPlans
from facade.privacy.projector import Keys, Projector
from facade.privacy.viewdata import VIEWS, load_view_data
from facade.security.roles import View

REPO = Path(__file__).resolve().parents[2]
KEYS = Keys(pseudonym_key=b"p" * 32, research_key=b"r" * 32, shift_max_days=40)
REGIONAL = "cd" * 32


@pytest.fixture(scope="module")
def projector() -> Projector:
    return Projector.load(REPO / "mappings", REPO / "profiles", KEYS)


@pytest.fixture(scope="module")
def marked(projector: Projector) -> list[Marked]:
    """Every profile (all choice variants) plus the unprofiled Measure, full of markers."""
    catalogue = projector.plans.catalogue
    examples = example_resources(REPO / "profiles" / "fsh-generated" / "resources")
    baselines = {r["meta"]["profile"][0]: r for r in examples if r.get("meta", {}).get("profile")}
    references = {t: f"{t}/x-{t.lower()}" for t in ("Patient", "Encounter", "Organization")}
    generator = Generator(
        catalogue, Codes(catalogue, ensure_core_package()), MarkerFactory(7), references
    )
    out = []
    for url, profile in sorted(catalogue.profiles.items()):
        for variant in range(generator.variants(profile)):
            out.append(generator.generate(profile, baselines[url], variant))
    measure_file = next((REPO / "profiles" / "fsh-generated" / "resources").glob("Measure-*.json"))
    measure = json.loads(measure_file.read_text(encoding="utf-8"))
    out.append(generator.generate(base_profile(catalogue, "Measure"), measure, 0))
    return out


def test_markers_reach_every_profile_and_the_known_carriers(marked: list[Marked]) -> None:
    paths = {m.path for item in marked for m in item.markers}
    assert {item.profile for item in marked} >= {
        "vte-patient",
        "vte-encounter",
        "vte-organization",
        "vte-summary-measurereport",
        "Measure (base)",
    }
    assert len(paths) > 4000, len(paths)
    # the carriers of issue 10 are among the generated paths (a check of the generator only)
    for carrier in (
        "Encounter.hospitalization.preAdmissionIdentifier.value",
        "Encounter.type.coding.display",
        "Encounter.type.coding.version",
        "Encounter.meta.tag.display",
        "Encounter.meta.security.display",
        "Encounter.length.unit",
        "Encounter.contained.<contained>",
        "MedicationAdministration.medicationCodeableConcept.text",
    ):
        assert carrier in paths, carrier
    # an identity number in groups of four, in the first Quantity.unit of each resource
    spaced = [m.path for item in marked for m in item.markers if m.text.count(" ") == 4]
    assert len(spaced) >= 5 and all(p.endswith(".unit") for p in spaced), spaced


def test_every_marker_is_in_the_stored_resource(marked: list[Marked]) -> None:
    # the scan can see every marker, so an absent one is really absent from a view
    for item in marked:
        text = json.dumps(item.resource, ensure_ascii=False)
        missing = [m.path for m in item.markers if not m.found_in(text)]
        assert not missing, (item.profile, missing[:5])


def _scan(
    projector: Projector, view: View, marked: list[Marked]
) -> tuple[list[str], list[str], int]:
    """(leaked markers, declared-visible markers missing, number declared visible)."""
    oracle = Oracle(load_view_data(REPO / "mappings" / "views"))
    leaks: list[str] = []
    lost: list[str] = []
    visible = 0
    for item in marked:
        shown: dict[str, Any] | None = projector.project(view, item.resource, REGIONAL)
        text = json.dumps(shown, ensure_ascii=False)
        for marker in item.markers:
            declared = oracle.visible(view, item.resource["resourceType"], marker)
            visible += declared
            found = marker.found_in(text)
            if found and not declared:
                leaks.append(f"{item.profile}: {marker.path} = {marker.text}")
            elif declared and not found:
                lost.append(f"{item.profile}: {marker.path}")
    return leaks, lost, visible


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.value)
def test_views_show_exactly_the_markers_they_declare(
    view: View, projector: Projector, marked: list[Marked]
) -> None:
    leaks, lost, visible = _scan(projector, view, marked)
    assert not leaks, f"{len(leaks)} markers leaked, e.g. {leaks[:10]}"
    assert not lost, f"{len(lost)} declared-visible markers missing, e.g. {lost[:10]}"
    assert visible > 100  # the views do show data (codes, values, dates)


def test_a_projection_that_passes_displays_through_is_caught(
    monkeypatch: pytest.MonkeyPatch, marked: list[Marked]
) -> None:
    # the scan fails a faulty projection: re-derived displays replaced by the stored ones
    monkeypatch.setitem(walk.SCALARS, "display", lambda value, parent, ctx: value)
    data = load_view_data(REPO / "mappings" / "views")
    faulty = Projector(ViewPlans.build(data, Catalogue.load(REPO / "profiles")), KEYS)
    leaks, _, _ = _scan(faulty, View.DEIDENTIFIED, marked)
    assert leaks and all(".display = " in leak for leak in leaks)


def test_research_view_shows_no_real_date_of_a_patient(
    projector: Projector, marked: list[Marked]
) -> None:
    for item in marked:
        if projector.plans.patient_links[item.resource["resourceType"]] == "none":
            continue
        text = json.dumps(projector.project(View.DEIDENTIFIED, item.resource, REGIONAL))
        dates = [m.text[:10] for m in item.markers if m.text[:4].isdigit() and m.text[4:5] == "-"]
        assert dates and not [d for d in dates if d in text], item.profile
