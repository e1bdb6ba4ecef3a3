"""The parent's benchmarks beside this platform's own values (console and ``uplink benchmarks``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from facade.db import Database
from facade.network.tables import UplinkBenchmark


def position(ours: float | None, bands: Mapping[str, float] | None) -> str | None:
    """Where our value lies among the area's hospitals: below-p25, p25-p50, p50-p75, above-p75."""
    if ours is None or not bands:
        return None
    if ours < bands["p25"]:
        return "below-p25"
    if ours < bands["p50"]:
        return "p25-p50"
    if ours <= bands["p75"]:
        return "p50-p75"
    return "above-p75"


def beside(own: Mapping[str, float | None], benchmarks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per indicator the parent benchmarks: our value, the area's, its bands, our place."""
    rows = []
    for entry in benchmarks.get("indicators") or []:
        ours = own.get(entry["id"])
        bands = entry.get("bands")
        rows.append(
            {
                "id": entry["id"],
                "ours": ours,
                "value": entry.get("value"),
                "bands": bands,
                "position": position(None if ours is None else float(ours), bands),
                "withheld": entry.get("withheld"),
                "period": benchmarks.get("period"),
                "status": benchmarks.get("status"),
            }
        )
    return rows


def stored_benchmark(database: Database, period: str, indicator: str) -> dict[str, Any] | None:
    """The parent's benchmark of one indicator as last fetched (``uplink benchmarks``), in
    percent for the console; None when none was fetched for the period."""
    with database.session() as session:
        row = session.get(UplinkBenchmark, period)
        body = None if row is None else orjson.loads(row.body)
    entry = next((i for i in (body or {}).get("indicators") or [] if i["id"] == indicator), None)
    if entry is None:
        return None

    def pct(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 2)

    bands = entry.get("bands")
    return {
        "value": pct(entry.get("value")),
        "bands": {k: pct(v) for k, v in bands.items()} if bands else None,
        "status": body.get("status") if body else None,
        "fetched": row.fetched_at.isoformat(timespec="minutes") if row else None,
    }
