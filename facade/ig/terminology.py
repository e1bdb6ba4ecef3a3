"""Render ``mappings/code-tables`` as FHIR Shorthand: one CodeSystem, ValueSet and ConceptMaps per table.

The output (``profiles/input/fsh/terminology.generated.fsh``) is committed and drift-tested, so the
YAML stays the one source of every code.
"""

from __future__ import annotations

from collections.abc import Iterable

from facade.dictionary.codetables import CodeTable, ConceptMapSpec, PropertyValue

GENERATED_NAME = "terminology.generated.fsh"
HEADER = (
    "// GENERATED from mappings/code-tables by `vte-facade ig build` (facade/ig/terminology.py).\n"
    "// Do not edit: change the YAML and rebuild.\n"
)
_VALUE_KEYS = {
    "code": "valueCode",
    "string": "valueString",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "boolean": "valueBoolean",
}


def render_terminology(tables: Iterable[CodeTable]) -> str:
    """FSH text for every table, in id order."""
    blocks = [HEADER]
    for table in sorted(tables, key=lambda t: t.id):
        blocks.append(_code_system(table))
        blocks.append(_value_set(table))
        blocks.extend(_concept_map(table, cmap) for cmap in table.concept_maps)
    return "\n".join(blocks)


def value_set_name(table: CodeTable) -> str:
    """FSH name of a table's ValueSet (profiles bind to it by this name)."""
    return f"{table.fsh_name}VS"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _code(code: str) -> str:
    # FSH codes with characters outside [A-Za-z0-9-_.] must be quoted.
    return f"#{code}" if all(c.isalnum() or c in "-_." for c in code) else f'#"{code}"'


def _literal(kind: str, value: PropertyValue) -> str:
    if kind == "code":
        return _code(str(value))
    if kind == "string":
        return _q(str(value))
    if kind == "boolean":
        return "true" if value else "false"
    return str(value)


def _code_system(table: CodeTable) -> str:
    lines = [
        f"CodeSystem: {table.fsh_name}",
        f"Id: {table.id}",
        f"Title: {_q(table.title_en)}",
        f"Description: {_q(f'{table.title_zh}. {table.description} Source: {table.source}.')}",
        f"* ^url = {_q(table.system)}",
        "* ^status = #active",
        "* ^experimental = false",
        "* ^caseSensitive = true",
        "* ^language = #zh-CN",
    ]
    if table.oid:
        lines += [
            '* ^identifier.system = "urn:ietf:rfc:3986"',
            f"* ^identifier.value = {_q('urn:oid:' + table.oid)}",
        ]
    kinds = {p.code: p.type for p in table.properties}
    for i, prop in enumerate(table.properties):
        lines += [
            f"* ^property[{i}].code = {_code(prop.code)}",
            f"* ^property[{i}].type = #{prop.type}",
            f"* ^property[{i}].description = {_q(prop.description)}",
        ]
    for concept in table.concepts:
        code = _code(concept.code)
        lines.append(
            f"* {code} {_q(concept.zh)}"
            + (f" {_q(concept.definition)}" if concept.definition else "")
        )
        lines += [
            f"* {code} ^designation[0].language = #en",
            f"* {code} ^designation[0].value = {_q(concept.en)}",
        ]
        for i, (key, value) in enumerate(concept.properties.items()):
            lines += [
                f"* {code} ^property[{i}].code = {_code(key)}",
                f"* {code} ^property[{i}].{_VALUE_KEYS[kinds[key]]} = {_literal(kinds[key], value)}",
            ]
    return "\n".join(lines) + "\n"


def _value_set(table: CodeTable) -> str:
    return (
        "\n".join(
            [
                f"ValueSet: {value_set_name(table)}",
                f"Id: {table.id}",
                f"Title: {_q(table.title_en)}",
                f"Description: {_q(f'All codes of {table.title_zh} ({table.title_en}).')}",
                "* ^status = #active",
                "* ^experimental = false",
                f"* include codes from system {table.fsh_name}",
            ]
        )
        + "\n"
    )


def _concept_map(table: CodeTable, cmap: ConceptMapSpec) -> str:
    lines = [
        f"Instance: {cmap.id}",
        "InstanceOf: ConceptMap",
        "Usage: #definition",
        f"Title: {_q(cmap.title_en)}",
        f"* url = {_q(cmap.url)}",
        f"* name = {_q(''.join(p.capitalize() for p in cmap.id.split('-')))}",
        f"* title = {_q(cmap.title_en)}",
        "* status = #active",
        "* experimental = false",
        f"* sourceCanonical = {_q(table.value_set)}",
    ]
    if cmap.target_value_set:
        lines.append(f"* targetCanonical = {_q(cmap.target_value_set)}")
    lines += [
        f"* group[0].source = {_q(table.system)}",
        f"* group[0].target = {_q(cmap.target_system)}",
    ]
    for i, concept in enumerate(c for c in table.concepts if c.code in cmap.mappings):
        target = cmap.mappings[concept.code]
        element = f"* group[0].element[{i}]"
        lines += [
            f"{element}.code = {_code(concept.code)}",
            f"{element}.display = {_q(concept.zh)}",
            f"{element}.target[0].code = {_code(target.code)}",
        ]
        if target.display:
            lines.append(f"{element}.target[0].display = {_q(target.display)}")
        lines.append(f"{element}.target[0].equivalence = #{target.equivalence}")
    return "\n".join(lines) + "\n"
