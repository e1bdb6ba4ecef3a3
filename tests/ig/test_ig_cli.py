"""``vte-facade ig check`` and ``ig render-dictionary`` on the real files and on a drifted copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facade.cli.main import app
from facade.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def mappings_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, core_dir: Path
) -> Iterator[Path]:
    """A copy of mappings/ the CLI is pointed at (fresh settings read from the environment)."""
    root = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", root)
    monkeypatch.setenv("VTE_MAPPINGS_DIR", str(root))
    monkeypatch.setenv("VTE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def test_check_passes_on_the_committed_files(mappings_copy: Path) -> None:
    result = runner.invoke(app, ["ig", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"problems": []}


def test_check_fails_on_a_stale_markdown_and_render_fixes_it(mappings_copy: Path) -> None:
    markdown = mappings_copy / "dictionary.md"
    markdown.write_text(
        markdown.read_text(encoding="utf-8").replace("离院方式", "出院方式"), encoding="utf-8"
    )
    stale = runner.invoke(app, ["ig", "check", "--json"])
    assert stale.exit_code == 1
    assert any("dictionary.md is out of date" in p for p in json.loads(stale.output)["problems"])
    rendered = runner.invoke(app, ["ig", "render-dictionary", "--json"])
    assert json.loads(rendered.output)["changed"] is True
    assert runner.invoke(app, ["ig", "check"]).exit_code == 0


def test_check_reports_a_broken_dictionary_file(mappings_copy: Path) -> None:
    path = mappings_copy / "dictionary" / "wells.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("code_table: wells-variant", "code_table: nope"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ig", "check", "--json"])
    assert result.exit_code == 1
    assert (
        "dictionary/wells.yaml: fields(wellsVariant).code_table: unknown code table 'nope'"
        in result.output
    )
