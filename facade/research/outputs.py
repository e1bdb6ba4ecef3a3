"""Write one table as CSV and Parquet (pyarrow), and describe a written file for the manifest."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

# Column type names (ViewDefinition ``type`` / OMOP column kinds) -> Arrow types.
ARROW_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "bigint": pa.int64(),
    "decimal": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}


def _arrow(kind: str | None) -> pa.DataType:
    return ARROW_TYPES.get(kind or "", pa.string())


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return value


def write_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str | None]],
    directory: Path,
    name: str,
) -> list[Path]:
    """``name.csv`` and ``name.parquet`` in ``directory``; columns keep their order and types."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [c for c, _ in columns]
    csv_path = directory / f"{name}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in names])
    schema = pa.schema([(c, _arrow(kind)) for c, kind in columns])
    data = {c: [_cast(_cell(row.get(c)), kind) for row in rows] for c, kind in columns}
    parquet_path = directory / f"{name}.parquet"
    pq.write_table(pa.Table.from_pydict(data, schema=schema), parquet_path)
    return [csv_path, parquet_path]


def _cast(value: Any, kind: str | None) -> Any:
    if value is None:
        return None
    if kind in ("integer", "bigint"):
        return int(value)
    if kind == "decimal":
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "date":
        return value
    return value if isinstance(value, str) else str(value)


def describe(path: Path, root: Path, rows: int | None) -> dict[str, Any]:
    """A manifest entry: relative path, bytes, SHA-256 and row count."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "rows": rows,
    }


def ndjson_lines(path: Path) -> Iterable[dict[str, Any]]:
    """The resources of an NDJSON file, one at a time."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)
