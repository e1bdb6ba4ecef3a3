"""The terminology FSH is generated from mappings/code-tables; committed output must not drift."""

from __future__ import annotations

from pathlib import Path

from facade.dictionary.codetables import CodeTable, Concept
from facade.dictionary.loader import load_dictionary
from facade.ig.terminology import GENERATED_NAME, render_terminology

REPO = Path(__file__).resolve().parents[2]


def test_committed_terminology_fsh_matches_the_code_tables() -> None:
    tables = load_dictionary(REPO / "mappings").code_tables.values()
    committed = (REPO / "profiles" / "input" / "fsh" / GENERATED_NAME).read_text(encoding="utf-8")
    assert committed == render_terminology(tables), (
        "run `vte-facade ig build` to regenerate terminology"
    )


def test_rendering_quotes_and_escapes() -> None:
    table = CodeTable(
        version=1,
        id="odd-table",
        title_zh="表",
        title_en='Say "hi"',
        description="d",
        source="s",
        concepts=[Concept(code="a/b", zh='引号"', en="x\\y")],
    )
    fsh = render_terminology([table])
    assert "CodeSystem: OddTable" in fsh
    assert '* #"a/b" "引号\\""' in fsh
    assert '* #"a/b" ^designation[0].value = "x\\\\y"' in fsh
    assert 'Title: "Say \\"hi\\""' in fsh
    assert "* include codes from system OddTable" in fsh
