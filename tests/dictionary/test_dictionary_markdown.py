"""mappings/dictionary.md is generated from the YAML, committed, and must not drift."""

from __future__ import annotations

from pathlib import Path

from facade.dictionary.loader import load_dictionary
from facade.dictionary.markdown import render_markdown

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def test_committed_markdown_matches_the_yaml() -> None:
    rendered = render_markdown(load_dictionary(MAPPINGS))
    committed = (MAPPINGS / "dictionary.md").read_text(encoding="utf-8")
    assert committed == rendered, (
        "mappings/dictionary.md is stale: run `vte-facade ig render-dictionary`"
    )


def test_markdown_lists_every_field_in_both_languages_and_every_code() -> None:
    dictionary = load_dictionary(MAPPINGS)
    text = render_markdown(dictionary)
    for record in dictionary.record_types.values():
        assert f"`{record.service_code}`" in text
        for _, field in record.all_fields():
            prefix = f"| `{field.name}` | {field.zh} | {field.en} |"
            rows = [line for line in text.splitlines() if line.startswith(prefix)]
            assert rows, prefix
            assert all(("*not forwarded*" in row) == (not field.forwarded) for row in rows)
    for table in dictionary.code_tables.values():
        for concept in table.concepts:
            assert f"| `{concept.code}` | {concept.zh} |" in text
