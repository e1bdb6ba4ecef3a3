"""The view data: loaded strictly, checked against every profile at start-up, documented without drift."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from facade.app import create_app
from facade.ig import core_extract
from facade.ig.build import ensure_core_package
from facade.privacy import render
from facade.privacy.plan import ViewPlans
from facade.privacy.viewdata import ViewsError, load_view_data
from facade.settings import Settings

REPO = Path(__file__).resolve().parents[2]
VIEWS = REPO / "mappings" / "views"


@pytest.fixture
def views_copy(tmp_path: Path) -> Path:
    """A writable copy of mappings/ (the views are edited per test)."""
    target = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings" / "views", target / "views")
    return target


def _edit(mappings: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = mappings / "views" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(mappings: Path) -> str:
    with pytest.raises(ViewsError) as caught:
        ViewPlans.build(
            load_view_data(mappings / "views"),
            ViewPlans.load(REPO / "mappings", REPO / "profiles").catalogue,
        )
    return caught.value.message


def test_committed_views_cover_every_profile() -> None:
    plans = ViewPlans.load(REPO / "mappings", REPO / "profiles")
    profiled = {p.type for p in plans.catalogue.profiles.values()}
    assert profiled | {"Measure"} == set(plans.data.resources)


def test_an_unclassified_element_stops_start_up_and_is_named(views_copy: Path) -> None:
    _edit(
        views_copy,
        "encounter.yaml",
        lambda d: d["elements"].pop("hospitalization.preAdmissionIdentifier"),
    )
    message = _problems(views_copy)
    assert (
        "Encounter.hospitalization.preAdmissionIdentifier (profile vte-encounter): no rule for "
        "the pseudonymised view" in message
    )
    assert "deidentified view" in message


def test_unclassified_data_type_elements_and_extensions_are_named(views_copy: Path) -> None:
    _edit(views_copy, "_datatypes.yaml", lambda d: d["types"]["Coding"].pop("version"))
    _edit(views_copy, "_extensions.yaml", lambda d: d["extensions"].pop("icu-stay"))
    message = _problems(views_copy)
    assert "Coding.version" in message and "no rule for the pseudonymised view" in message
    assert "extension icu-stay: not classified" in message


def test_wrong_rules_are_refused(views_copy: Path) -> None:
    def break_patient(d: dict[str, Any]) -> None:
        d["elements"]["gender"] = "date-shift"  # a code cannot be shifted
        d["elements"]["birthDate"] = "keep"  # a real date in the research view
        d["elements"]["contact.name"] = "drop"  # under a prohibited, unlisted element

    _edit(views_copy, "patient.yaml", break_patient)
    message = _problems(views_copy)
    assert (
        "patient.yaml: elements.gender: pseudonymised: date-shift applies only to date" in message
    )
    assert "patient.yaml: elements.birthDate: deidentified: keep would show real dates" in message
    assert "patient.yaml: elements.contact.name: not an element of Patient reached" in message


def test_malformed_files_name_file_and_key(views_copy: Path) -> None:
    _edit(views_copy, "observation.yaml", lambda d: d["elements"].update(code="show"))
    with pytest.raises(
        ViewsError, match=r"observation.yaml: elements.code.*'show' is not a transform"
    ):
        load_view_data(views_copy / "views")


def test_the_app_does_not_start_with_an_incomplete_view(tmp_path: Path, views_copy: Path) -> None:
    shutil.copytree(
        REPO / "mappings", views_copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("views")
    )
    _edit(views_copy, "_datatypes.yaml", lambda d: d["types"]["Quantity"].pop("unit"))
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'f.db'}",
        mappings_dir=views_copy,
    )
    with pytest.raises(ViewsError, match=r"Quantity.unit"):
        create_app(settings)


def test_generated_documents_match_the_view_data() -> None:
    data = load_view_data(VIEWS)
    assert (REPO / "mappings" / "views.md").read_text(encoding="utf-8") == render.render_markdown(
        data
    ), "mappings/views.md is stale: run `vte-facade ig render-views`"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = render.render_readme_section(data)
    assert section in readme, "README's role section is stale: run `vte-facade ig render-views`"
    assert render.replace_readme_section(readme, section) == readme


def test_core_extract_matches_the_core_package() -> None:
    committed = (REPO / "profiles" / core_extract.EXTRACT_NAME).read_text(encoding="utf-8")
    fresh = core_extract.render(
        ensure_core_package(), REPO / "profiles" / "fsh-generated" / "resources"
    )
    assert committed == fresh, (
        "profiles/r4-core-extract.json is stale: run `vte-facade ig render-views`"
    )
