"""The README's DuckDB example runs as written on files shaped like an extract's."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import orjson

from facade.research.catalogue import views
from facade.research.omop import COLUMNS, OmopBuilder, load_config
from facade.research.outputs import write_table
from facade.research.sof import View
from facade.research.vocab import Vocabulary
from facade.settings import Settings

REPO = Path(__file__).resolve().parents[2]
ICD10 = "urn:oid:2.16.156.10011.2.3.3.11"
VTE_EVENT = "https://fhir.vte-region.cn/ig/StructureDefinition/vte-event"


def _resources() -> list[dict]:  # type: ignore[type-arg]
    out: list[dict] = [
        {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960"}
    ]  # type: ignore[type-arg]
    for i, month in enumerate(("01", "01", "02")):
        out.append(
            {
                "resourceType": "Encounter",
                "id": f"e{i}",
                "subject": {"reference": "Patient/p1"},
                "period": {
                    "start": f"2026-{month}-03T08:00:00+08:00",
                    "end": f"2026-{month}-09T10:00:00+08:00",
                },
            }
        )
    out.append(
        {
            "resourceType": "Condition",
            "id": "v1",
            "meta": {"profile": [VTE_EVENT]},
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "code": {"coding": [{"system": ICD10, "code": "I80.200"}]},
            "recordedDate": "2026-01-08T10:00:00+08:00",
        }
    )
    return out


def test_readme_duckdb_queries_run(tmp_path: Path) -> None:
    extract = tmp_path / "extract"
    resources = _resources()
    specs = {s.name: s for s in views(Settings(environment="test", var_dir=tmp_path))}
    for name in ("stay", "vte_event"):
        view = View(specs[name].definition)
        types = {c["name"]: c.get("type") for c in specs[name].columns()}
        write_table(
            list(view.rows(resources)),
            [(c, types[c]) for c in view.columns],
            extract / "tables",
            name,
        )
    builder = OmopBuilder(
        Vocabulary.empty(), load_config(REPO / "mappings" / "research" / "omop.yaml")
    )
    for resource in resources:
        builder.add(resource)
    write_table(
        builder.rows["condition_occurrence"],
        COLUMNS["condition_occurrence"],
        extract / "omop",
        "condition_occurrence",
    )
    (extract / "fhir").mkdir()
    (extract / "fhir" / "Encounter.ndjson").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in resources if r["resourceType"] == "Encounter")
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sql\n(.*?)```", readme, re.S)
    assert block is not None
    statements = [
        s.strip()
        for s in block.group(1).replace("'extract/", f"'{extract}/").split(";")
        if s.strip()
    ]
    results = [duckdb.sql(s).fetchall() for s in statements]
    assert results[0] == [("2026-01", 2, 0.5), ("2026-02", 1, 0.0)]
    assert results[1] == [(0, "I80.200", 1)]
    assert results[2] == [(3,)]
