"""The ingest benchmark's scale part: two forwarder processes drain one queue of 10,000 records.

A region of about ``records`` native records (three hospitals, about a tenth of the discharged
cases sent twice: first at admission, then corrected with the discharge as ``recordVersion`` 2;
``bench.faults.push.plan_batches``) is uploaded through **two** ``vte-facade serve`` processes
on one facade database (hospitals split between them; forwarding off, so the queue fills and the
audit chain gets two concurrent writers on PostgreSQL). Then ``forwarders`` ``vte-facade forward``
processes are started at once on that database and the queue is timed until empty.

Checked afterwards (``bench.faults.check``, by business identifier in HAPI): every acknowledged
record held by exactly one resource (no identifier carried twice: nothing stored under two ids),
nothing unexpected, every corrected case at its latest version with a history that never goes
back, every receipt STORED and naming the resource that holds its identifier. From the receipts
table: how many records were claimed more than once (each claim adds one to ``attempts``; a
record claimed by both processes would show 2). ``vte-facade audit verify`` checks the chain
the two serving processes wrote.

Run once with one forwarder (the baseline, ``VTE_BENCH_SCALE_BASELINE=0`` skips it) and once
with two, each on a database and region of its own.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from bench.faults.check import check
from bench.faults.push import Batch, Ledger, Sender, plan_batches
from bench.faults.scenarios import RECORDS_PER_STAY
from bench.faults.site import QueueWatch
from bench.ingest_stack import FACADE_PORT, STATE, VTE, LoadMeter, Stack, at_once
from facade.native.tables import IntakeRecord
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.synth.push import HospitalApp, register_region
from facade.upstream import UpstreamClient

BATCH = 200


def upload(urls: list[str], apps: dict[str, HospitalApp], batches: list[Batch]) -> Ledger:
    """Every hospital sends its batches in order, all at once, hospitals spread over ``urls``."""
    senders = {
        org: Sender(urls[n % len(urls)], {org: apps[org]}) for n, org in enumerate(sorted(apps))
    }
    try:
        at_once(
            lambda org: senders[org].send([b for b in batches if b.org == org], deadline_s=3600),
            senders,
        )
    finally:
        for sender in senders.values():
            sender.close()
    return Ledger.merged([s.ledger.as_dict() for s in senders.values()])


def final_report(log: Path) -> dict[str, Any]:
    """The totals a ``vte-facade forward --json`` process printed as it stopped."""
    text = log.read_text(errors="replace")
    start = text.rfind("\n{")
    try:
        found: dict[str, Any] = orjson.loads(text[start + 1 :] if start >= 0 else text)
    except orjson.JSONDecodeError:
        return {"unreadable": text[-400:]}
    return found


def claims(settings: Settings, stack: Stack) -> dict[str, int]:
    """Records, claims made, and records claimed more than once (from the receipts table)."""
    database = stack.migrate(settings)
    try:
        with database.session() as session:
            records, made, again = session.execute(
                select(
                    func.count(),
                    func.sum(IntakeRecord.attempts),
                    func.count().filter(IntakeRecord.attempts > 1),
                )
            ).one()
    finally:
        database.dispose()
    return {"records": int(records), "claims": int(made or 0), "claimed_again": int(again)}


def audit_verified(stack: Stack, settings: Settings) -> dict[str, Any]:
    """``vte-facade audit verify --json`` on the run's database."""
    done = subprocess.run(
        [VTE, "audit", "verify", "--json"],
        env=stack.environment(settings),
        capture_output=True,
        check=False,
    )
    try:
        found: dict[str, Any] = orjson.loads(done.stdout)
    except orjson.JSONDecodeError:
        found = {"ok": False, "output": (done.stdout + done.stderr).decode()[-400:]}
    return found


def drain_run(stack: Stack, database_name: str, records: int, forwarders: int) -> dict[str, Any]:
    """Fill one queue through two serving processes, drain it with ``forwarders``, check HAPI."""
    settings = stack.settings(database_name, port=FACADE_PORT + 1)
    database = stack.migrate(settings)
    tag = f"scale{forwarders}-{time.time_ns() % 10**8}"
    stays = math.ceil(records / (RECORDS_PER_STAY - 0.2))
    region = generate(RegionSpec(seed=11, hospitals=3, encounters=stays, run=tag))

    async def register() -> dict[str, HospitalApp]:
        upstream = UpstreamClient(settings)
        try:
            return dict(await register_region(settings, database, upstream, region))
        finally:
            await upstream.aclose()

    apps = asyncio.run(register())
    batches = plan_batches(region, tag, batch_size=BATCH)
    queued = sum(len(b.records) for b in batches)
    doors = [settings, stack.settings(database_name, port=FACADE_PORT + 2)]
    # No per-app rate limit: the check asks VTE.BATCH.QUERY about every batch in a burst.
    serving = [
        stack.serve(s, VTE_FORWARD_ENABLED="false", VTE_NATIVE_RATE_PER_SECOND="0") for s in doors
    ]
    result: dict[str, Any] = {"forwarders": forwarders, "records": queued, "batches": len(batches)}
    try:
        with LoadMeter() as load:
            started = time.perf_counter()
            ledger = upload([s.public_base_url for s in doors], apps, batches)
            result["upload_s"] = time.perf_counter() - started
        result["upload_load"] = load.text
        with QueueWatch(database, sorted(apps)) as watch, LoadMeter() as load:
            started = time.perf_counter()
            logs = [f"forward-{forwarders}-{n}.log" for n in range(forwarders)]
            workers = [
                stack.spawn(["forward", "--json"], stack.environment(settings), log) for log in logs
            ]
            watch.wait("drained", 7200, poll=0.25)
            result["drain_wall_s"] = time.perf_counter() - started
            for worker in workers:
                stack.end(worker)
        result["per_forwarder"] = [final_report(STATE / log) for log in logs]
        result["drain_load"] = load.text
        result["drain_s"], result["stored"] = stored_span(database)
        asker = Sender(doors[0].public_base_url, apps)
        try:
            verdict = check(
                batches,
                ledger,
                sender=asker,
                database=database,
                fhir_base_url=settings.fhir_base_url,
                mappings_dir=settings.mappings_dir,
            )
        finally:
            asker.close()
        result["verdict"] = verdict.as_dict()
        result["claims"] = claims(settings, stack)
        result["audit"] = audit_verified(stack, settings)
    finally:
        for process in serving:
            stack.end(process)
        database.dispose()
    return result


def stored_span(database: Any) -> tuple[float, int]:
    """Seconds from the first receipt stored to the last, and how many are stored."""
    with database.session() as session:
        first, last, stored = session.execute(
            select(
                func.min(IntakeRecord.stored_at),
                func.max(IntakeRecord.stored_at),
                func.count().filter(IntakeRecord.status == "stored"),
            )
        ).one()
    if first is None or last is None:
        raise SystemExit("scale part: no receipt was stored")
    return (last - first).total_seconds(), int(stored)


def scale_part(stack: Stack, records: int, *, baseline: bool) -> dict[str, Any]:
    """The two-forwarder run, and the one-forwarder baseline before it when ``baseline``."""
    runs: dict[str, Any] = {}
    if baseline:
        runs["one"] = drain_run(stack, "facade2", records, 1)
    runs["two"] = drain_run(stack, "facade3", records, 2)
    return runs


def report_scale(runs: dict[str, Any]) -> bool:
    """Print the scale part; whether every check held."""
    print("\n== two forwarders on one queue")
    ok = True
    for run in runs.values():
        verdict, taken = run["verdict"], run["claims"]
        print(
            f"  {run['forwarders']} forwarder(s): {run['records']} records "
            f"({verdict['corrected']} corrected cases) uploaded through 2 facades in "
            f"{run['upload_s']:.1f} s (load {run['upload_load']}); drained in "
            f"{run['drain_s']:.1f} s first→last stored ({run['drain_wall_s']:.1f} s from start, "
            f"{run['stored'] / max(run['drain_s'], 1e-9):.0f} records/s; load {run['drain_load']})"
        )
        print(
            f"    HAPI: {verdict['stored_once']} of {verdict['records']} records stored once, "
            f"lost {verdict['lost']}, duplicated {verdict['duplicated']}, unexpected "
            f"{verdict['unexpected']}, out of order {verdict['out_of_order']}, receipts "
            f"inconsistent {verdict['receipts_inconsistent']};  claims {taken['claims']} for "
            f"{taken['records']} receipts ({taken['claimed_again']} claimed more than once);  "
            f"audit chain {'intact' if run['audit'].get('ok') else 'BROKEN'} "
            f"({run['audit'].get('checked')} events)"
        )
        for n, part in enumerate(run["per_forwarder"]):
            print(
                f"    forwarder {n}: claimed {part.get('claimed')}, stored {part.get('stored')}, "
                f"failed {part.get('failed')}, given back {part.get('released')} "
                f"({part.get('conflicts')} on a 409 write conflict, {part.get('linkWaits')} "
                f"waiting for a linked record), {part.get('transactions')} transactions"
            )
        ok = ok and verdict["ok"] and bool(run["audit"].get("ok"))
        if verdict["examples"]:
            print(f"    examples: {verdict['examples']}")
    if "one" in runs:
        one, two = runs["one"]["drain_s"], runs["two"]["drain_s"]
        print(f"  drain one / two forwarders = {one:.1f} / {two:.1f} s = {one / two:.2f}×")
    return ok
