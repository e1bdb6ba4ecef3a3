"""Data-quality benchmark: what the counters cost at intake, and a 100,000-stay report against reading them.

``python -m bench dq``. Everything goes through the real native gateway (``Gateway.handle``: the
envelope checks, HMAC-SM3 signature, nonce, the dictionary processor and the durable intake with
its receipts), into a SQLite facade database under ``var/bench-dq/``, without forwarding to HAPI.

1. **Intake cost**: ``VTE_BENCH_DQ_INTAKE`` stays (default 2,000) loaded into fresh databases
   with the quality recorder in the intake transaction and without it (twice each, alternating);
   compared by the process's CPU time, and the recorder's own CPU time measured around it.
2. **Report at scale**: ``VTE_BENCH_DQ_STAYS`` stays (default 100,000, 20 hospitals) loaded with
   the recorder; then, median of 5 after one warm-up, in the same process:
   * *direct*: the counter reads a report issues (monthly counters of the period and of the
     previous period for every institution, and the daily volumes), nothing else;
   * *region* and *institution* reports (``QualityService.report``) built from them.
   ``VTE_BENCH_DQ_REMEASURE=1`` measures the kept database again without loading;
   ``VTE_BENCH_DQ_STEPS`` picks steps (``intake,load,report``).

The rate limit is switched off (``native_rate_per_second=0``): the benchmark loads one app per
hospital as fast as it can, which a production limit would throttle. Results:
``var/bench-dq/results.json`` and ``bench/README.md``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import func, select

from facade.db import Database
from facade.indicators.periods import parse_period
from facade.mapping.processor import DictionaryProcessor
from facade.native import credentials, orgs
from facade.native.client import VteXClient
from facade.native.gateway import Gateway, Inbound
from facade.native.sealing import APP_SECRETS, SecretBox
from facade.quality import counters
from facade.quality.report import previous_period
from facade.quality.rules import rule_set
from facade.quality.service import QualityService
from facade.quality.tables import DqCount
from facade.security.callers import CallerCheck
from facade.settings import Settings, ensure_secrets
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.records import RECORD_TYPES, SERVICE_CODES

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench-dq"
PERIOD = "2026-Q1"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _settings(where: Path) -> Settings:
    return ensure_secrets(
        Settings(
            environment="test",
            var_dir=where,
            database_url=f"sqlite:///{where / 'facade.db'}",
            native_rate_per_second=0,
            forward_enabled=False,
        )
    )


def load(where: Path, region: Region, *, observe: bool) -> dict[str, Any]:
    """Register the region's hospitals and push every record through the gateway."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    settings = _settings(where)
    database = Database(settings.database_url)
    database.upgrade()
    box = SecretBox.for_purpose(settings, APP_SECRETS)
    clients: dict[str, VteXClient] = {}
    with database.session() as session:
        for hospital in region.hospitals:
            orgs.add_org(
                session, hospital.org_code, hospital.name, grade=hospital.grade, fhir_id="x"
            )
            issued = credentials.issue_app(
                session, box, hospital.org_code, name="VTE", sign_types=("HMAC-SM3",)
            )
            clients[hospital.org_code] = VteXClient(
                "/vte-x/v1/gateway",
                app_id=issued.app_id,
                org_code=hospital.org_code,
                secret=issued.secret,
                sign_type="HMAC-SM3",
            )
    processor = DictionaryProcessor.from_settings(settings, database)
    gateway = Gateway(
        settings, database, CallerCheck.for_database(settings, database), processor=processor
    )
    observer = gateway.store.observer
    spent = [0.0]
    if not observe:
        gateway.store.observer = None
    elif observer is not None:

        def timed(*args: Any, **kwargs: Any) -> None:
            begun = time.process_time()
            try:
                observer.observe(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - begun

        gateway.store.observer = SimpleNamespace(observe=timed)
    records = batches = 0
    started, cpu = time.perf_counter(), time.process_time()
    for org, kinds in region.records().items():
        client = clients[org]
        for kind in RECORD_TYPES:
            items = kinds[kind]
            for start in range(0, len(items), 200):
                part = items[start : start + 200]
                envelope = client.envelope(
                    SERVICE_CODES[kind], {"batchNo": f"B{kind}{start}", "records": part}
                )
                reply = gateway.handle(Inbound(orjson.dumps(envelope), "127.0.0.1"))
                if reply["code"] != "0":
                    raise SystemExit(f"batch refused: {reply}")
                records += len(part)
                batches += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    database.dispose()
    return {
        "stays": len(region.stays),
        "records": records,
        "batches": batches,
        "seconds": round(seconds, 1),
        "recordsPerSecond": round(records / seconds, 1),
        "cpuSeconds": round(cpu, 1),
        "recorderCpuSeconds": round(spent[0], 1),
        "recorderCpuMsPerRecord": round(1000 * spent[0] / records, 3),
        "observe": observe,
    }


def _median(action: Callable[[], Any], runs: int = 5) -> float:
    action()  # warm-up: imports, caches, SQLite pages
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(where: Path) -> dict[str, Any]:
    """Direct counter reads against the region and institution reports built from them."""
    settings = _settings(where)
    database = Database(settings.database_url)
    service = QualityService(settings, database)
    rules = rule_set(settings)
    period = parse_period(PERIOD, rules.config.tz)
    before = parse_period(previous_period(period), rules.config.tz)
    history = max(c.spec.history_days for c in rules.checks.values() if c.daily)  # type: ignore[union-attr]
    stay_type = rules.config.stay.record_type

    def direct() -> (
        None
    ):  # the same reads QualityReports.view makes for a period and the one before
        with database.session() as session:
            for span in (period, before):
                counters.month_counts(session, span.months(), None)
                first = span.start.date() - timedelta(days=history)
                last = (span.end - timedelta(days=1)).date()
                counters.daily_counts(session, stay_type, first, last, None)

    with database.session() as session:
        totals = counters.month_counts(session, period.months(), None)
        rows = sum(len(c) for c in totals.values())
        stored = session.scalar(select(func.count()).select_from(DqCount))
    biggest = max(totals, key=lambda org: totals[org].get("r:case", 0))
    figures: dict[str, Any] = {
        "counterRows": stored,
        "periodCounters": rows,
        "directSeconds": round(_median(direct), 4),
        "regionSeconds": round(_median(lambda: service.report(PERIOD)), 4),
        "institutionSeconds": round(_median(lambda: service.report(PERIOD, biggest)), 4),
    }
    started = time.perf_counter()
    workbook = service.workbook(PERIOD, biggest)
    figures["workbookSeconds"] = round(time.perf_counter() - started, 3)
    figures["workbookBytes"] = len(workbook)
    figures["regionRatio"] = round(figures["regionSeconds"] / figures["directSeconds"], 2)
    figures["institutionRatio"] = round(figures["institutionSeconds"] / figures["directSeconds"], 2)
    database.dispose()
    return figures


def main() -> None:
    results: dict[str, Any] = {}
    out = ROOT / "results.json"
    if out.exists():
        results = orjson.loads(out.read_bytes())
    steps = _env("VTE_BENCH_DQ_STEPS", "intake,load,report").split(",")
    if _env("VTE_BENCH_DQ_REMEASURE", "") == "1":
        steps = ["report"]
    if "intake" in steps:
        small = int(_env("VTE_BENCH_DQ_INTAKE", "2000"))
        region = generate(RegionSpec(seed=11, hospitals=3, encounters=small))
        # CPU time of this process: other work on the machine does not inflate it as it does
        # wall time; each side is loaded twice, alternating, and the smaller figure kept.
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for observe in (False, True, False, True):
            runs[observe].append(load(ROOT / f"intake-{observe}", region, observe=observe))
        without = min(runs[False], key=lambda r: r["cpuSeconds"])
        with_dq = min(runs[True], key=lambda r: r["cpuSeconds"])
        results["intake"] = {
            "without": without,
            "with": with_dq,
            "cpuRatio": round(with_dq["cpuSeconds"] / without["cpuSeconds"], 2),
            "recorderShareOfCpu": round(with_dq["recorderCpuSeconds"] / with_dq["cpuSeconds"], 3),
        }
        print(f"intake {small} stays: {results['intake']}", flush=True)
    if "load" in steps:
        stays = int(_env("VTE_BENCH_DQ_STAYS", "100000"))
        big = generate(RegionSpec(seed=12, hospitals=20, encounters=stays))
        results["load"] = load(ROOT / "big", big, observe=True)
        print(f"load: {results['load']}", flush=True)
    results["report"] = measure(ROOT / "big")
    print(f"report: {results['report']}", flush=True)
    ROOT.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
