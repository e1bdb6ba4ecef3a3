"""Render the dictionary as one human-readable markdown file (``mappings/dictionary.md``, committed, drift-tested)."""

from __future__ import annotations

from facade.dictionary.codetables import CodeTable
from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field, Group, RecordType

HEADER = """# VTE data-element dictionary / VTE 数据元字典

<!-- GENERATED from mappings/dictionary and mappings/code-tables by `vte-facade dictionary render`.
     Do not edit: change the YAML and re-render. Schema: mappings/README.md. -->

Every record hospitals send (native VTE-X `bizContent.records[]`, Excel rows) is one of the record
types below. Field names are the JSON member names; `datetime` values are `yyyy-MM-dd HH:mm:ss`
(China Standard Time), `date` values `yyyy-MM-dd`. Required: **Y** always, **C** under the stated
condition, blank = optional. FHIR targets use the path syntax of mappings/README.md.
"""


def render_markdown(dictionary: Dictionary) -> str:
    """The whole dictionary as markdown: record types, their fields and groups, then the code tables."""
    out = [
        HEADER,
        "## Record types / 记录类型\n",
        "| Record type | 中文名 | Service code | Resources (alias: type / profile) | Fields |",
        "|---|---|---|---|---|",
    ]
    for record in dictionary.record_types.values():
        resources = "<br>".join(f"{r.alias}: {r.type} / `{r.profile}`" for r in record.resources)
        count = len(record.all_fields())
        out.append(
            f"| [{record.record_type}](#{record.record_type}) | {record.zh} | `{record.service_code}` "
            f"| {resources} | {count} |"
        )
    for record in dictionary.record_types.values():
        out += _record(dictionary, record)
    out += ["", "## Code tables / 代码表", ""]
    for table in sorted(dictionary.code_tables.values(), key=lambda t: t.id):
        out += _table(table)
    return "\n".join(out) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _record(dictionary: Dictionary, record: RecordType) -> list[str]:
    out = [
        "",
        f'<a id="{record.record_type}"></a>',
        f"## {record.zh} / {record.en} (`{record.record_type}`)",
        "",
        f"Service code `{record.service_code}`. {_cell(record.description)}",
        "",
        "| Alias | Resource | Profile | Business key | Produced |",
        "|---|---|---|---|---|",
    ]
    main = record.main_aliases
    for spec in record.resources:
        produced = "one per item of `" + spec.per_item_of + "`" if spec.per_item_of else "one"
        if spec.when:
            produced += f" when `{spec.when.field}` ∈ {{{', '.join(spec.when.codes)}}}"
        label = f"**{spec.alias}**" if spec.alias in main else spec.alias
        out.append(
            f"| {label} | {spec.type} | `{spec.profile}` | `{_cell(spec.key)}` | {produced} |"
        )
    out += ["", *_fields_table(dictionary, record.fields)]
    for group in record.groups:
        out += [
            "",
            f"### {group.zh} / {group.en} (`{group.name}[]`)",
            "",
            _group_line(group),
            "",
            *_fields_table(dictionary, group.fields),
        ]
    return out


def _group_line(group: Group) -> str:
    target = (
        f"each item becomes one `{group.resource}` resource"
        if group.maps_to == "resources"
        else f"each item becomes one `{group.resource}.{group.path}` element"
    )
    required = "required, " if group.required else ""
    return f"{_cell(group.definition)} Array of objects ({required}at most {group.max_items}); {target}."


def _fields_table(dictionary: Dictionary, fields: list[Field]) -> list[str]:
    rows = [
        "| Field | 中文名 | English | Definition | Type / format | Req. | Values | Source | DE | Indicators | FHIR target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for field in fields:
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{field.name}`",
                    field.zh,
                    field.en,
                    _cell(field.definition),
                    _type(field),
                    _required(field),
                    _values(dictionary, field),
                    ", ".join(field.source),
                    field.de or "",
                    ", ".join(field.indicators),
                    _targets(field),
                ]
            )
            + " |"
        )
    return rows


def _type(field: Field) -> str:
    parts: list[str] = [field.type]
    if field.format:
        parts.append(field.format)
    if field.max_length:
        parts.append(f"≤{field.max_length}")
    if field.minimum is not None or field.maximum is not None:
        low = "" if field.minimum is None else f"{field.minimum:g}"
        high = "" if field.maximum is None else f"{field.maximum:g}"
        parts.append(f"{low}..{high}")
    return _cell(" ".join(parts))


def _required(field: Field) -> str:
    if field.required:
        return "Y"
    if field.required_when:
        return f"C: {field.required_when.field} ∈ {{{', '.join(field.required_when.codes)}}}"
    return ""


def _values(dictionary: Dictionary, field: Field) -> str:
    if field.code_table:
        table = dictionary.code_tables[field.code_table]
        return f"[{table.id}](#ct-{table.id})"
    if field.code_system:
        return f"`{_cell(field.code_system)}`" + (
            f" `{_cell(field.pattern)}`" if field.pattern else ""
        )
    return f"`{_cell(field.pattern)}`" if field.pattern else ""


def _targets(field: Field) -> str:
    if not field.forwarded:
        return "*not forwarded*"
    parts = []
    for target in field.fhir:
        extra = f" via `{target.concept_map}`" if target.concept_map else ""
        extra += f" ({target.transform})" if target.transform else ""
        parts.append(f"{target.resource}: `{_cell(target.path)}`{extra}")
    return "<br>".join(parts)


def _table(table: CodeTable) -> list[str]:
    out = [
        f'<a id="ct-{table.id}"></a>',
        f"### {table.title_zh} / {table.title_en} (`{table.id}`)",
        "",
        f"System `{table.system}`. Source: {_cell(table.source)}.",
        "",
        "| Code | 中文 | English |",
        "|---|---|---|",
    ]
    out += [f"| `{c.code}` | {_cell(c.zh)} | {_cell(c.en)} |" for c in table.concepts]
    for cmap in table.concept_maps:
        pairs = ", ".join(f"{code}→{target.code}" for code, target in cmap.mappings.items())
        out.append(f"\nConceptMap `{cmap.id}` to `{cmap.target_system}`: {pairs}.")
    out.append("")
    return out
