"""Sustained mixed load (issue 15): ``python -m bench load``, every door at once against each alone.

The platform is ``bench.faults.site.Site`` (a throw-away PostgreSQL cluster, HAPI on it with the
guide loaded, one ``vte-facade serve`` process with its in-process forwarder), on loopback only.
A small region is first loaded straight into HAPI (``bench.indicator_load.DirectLoader``) so that
researchers and the indicator refresh have something to read. Then four doors are driven by
threads in this process:

* **native**: twenty hospitals, each a ``bench.faults.push.Sender`` (signed HMAC-SM3 envelopes,
  retried with the same batchNo until acknowledged) paced to its share of the target rate;
* **FHIR write**: two more hospitals posting one transaction Bundle per stay (the guide's stay,
  re-homed to the hospital, ``tests/frontdoor/frontdoor_stay.py``) with SMART Backend Services
  tokens (``tests/smart_kit.py``);
* **FHIR read**: researchers paging de-identified searches (20 resources a page, next links);
* **indicators**: a QC client running ``POST /indicators/$evaluate`` one refresh after another.

Target rate: ``VTE_BENCH_LOAD_FACTOR`` (10) times a large region's daily rate,
``VTE_BENCH_LOAD_DAILY_STAYS`` inpatient stays a day (8,200: about 3 million stays a year, a
region of some 20 million people), spread evenly over the day; 20 of 22 hospitals send natively
(``RECORDS_PER_STAY`` records a stay, in batches of ``VTE_BENCH_LOAD_BATCH`` records), 2 send FHIR.
Researchers read ``VTE_BENCH_LOAD_READS_PER_SECOND`` pages a second (2) between them.

Phases: each door alone for ``VTE_BENCH_LOAD_WARMUP_SECONDS`` (30; the baseline), then all of
them for ``VTE_BENCH_LOAD_SECONDS`` (600), then the forwarder drains. Reported per door and phase:
throughput, p50/p99 latency, errors (any non-2xx, any native code other than 0, any record
refused in an acknowledged batch, any transport error, any receipt FAILED); ratios mixed / alone;
resident memory (VmRSS) of the facade and HAPI at the start and the end of the mixed phase
(target end / start <= 1.10). Ports: HAPI ``VTE_BENCH_LOAD_HAPI_PORT`` (8240), facade +5,
PostgreSQL +47000. Results: printed and written to var/bench-load/results.json; exits non-zero
on an error or memory growth beyond 10 %.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.faults.push import Batch, Sender, plan_batches
from bench.faults.scenarios import RECORDS_PER_STAY
from bench.faults.site import Ports, QueueWatch, Site
from bench.indicator_load import DirectLoader
from bench.ingest_stack import LoadMeter
from bench.kits import test_kits
from facade.native.client import Reply, VteXClient
from facade.synth.generator import Region, RegionSpec, generate
from facade.synth.push import HospitalApp, register_region
from facade.upstream import UpstreamClient

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / "var" / "bench-load"
SECONDS = float(os.environ.get("VTE_BENCH_LOAD_SECONDS", "600"))
WARMUP = float(os.environ.get("VTE_BENCH_LOAD_WARMUP_SECONDS", "30"))
DAILY_STAYS = float(os.environ.get("VTE_BENCH_LOAD_DAILY_STAYS", "8200"))
FACTOR = float(os.environ.get("VTE_BENCH_LOAD_FACTOR", "10"))
READS_PER_SECOND = float(os.environ.get("VTE_BENCH_LOAD_READS_PER_SECOND", "2"))
BATCH = int(os.environ.get("VTE_BENCH_LOAD_BATCH", "5"))
PRELOAD_STAYS = int(os.environ.get("VTE_BENCH_LOAD_PRELOAD_STAYS", "200"))
INDICATOR_PAUSE = float(os.environ.get("VTE_BENCH_LOAD_INDICATOR_PAUSE", "5"))
HAPI_PORT = int(os.environ.get("VTE_BENCH_LOAD_HAPI_PORT", "8240"))
NATIVE_HOSPITALS, FHIR_HOSPITALS, RESEARCHERS = 20, 2, 4
PERIOD = "2026-Q1"  # the synthetic regions' period (RegionSpec's default)
SEARCHES = ("Encounter", "Condition", "Observation", "Procedure", "RiskAssessment")
PAGES_PER_SEARCH = 5
DOORS = ("native", "fhir-write", "fhir-read", "indicators")
MEMORY_LIMIT = 1.10


@dataclass(frozen=True)
class Rates:
    """The offered load, derived from the assumed daily rate."""

    stays_per_second: float
    native_records_per_second: float
    fhir_bundles_per_second: float
    read_pages_per_second: float

    @classmethod
    def target(cls) -> Rates:
        """``FACTOR`` times ``DAILY_STAYS`` a day; hospitals' shares by count."""
        stays = DAILY_STAYS * FACTOR / 86400
        hospitals = NATIVE_HOSPITALS + FHIR_HOSPITALS
        return cls(
            stays,
            stays * NATIVE_HOSPITALS / hospitals * RECORDS_PER_STAY,
            stays * FHIR_HOSPITALS / hospitals,
            READS_PER_SECOND,
        )


@dataclass
class Door:
    """Latencies and errors of one door, by phase ("alone" or "mixed")."""

    name: str
    unit: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # records or resources carried
    errors: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, phase: str, latency: float, items: int, error: str | None) -> None:
        """One request: its latency, what it carried, and what went wrong (None: nothing)."""
        with self.lock:
            self.latencies.setdefault(phase, []).append(latency)
            self.items[phase] = self.items.get(phase, 0) + (0 if error else items)
            if error is not None:
                self.errors.setdefault(phase, []).append(error)

    def summary(self, phase: str) -> dict[str, Any]:
        """Requests, throughput, p50/p99 (ms) and errors of a phase."""
        done = sorted(self.latencies.get(phase, []))
        seconds = self.seconds.get(phase, 0.0) or 1.0
        return {
            "requests": len(done),
            "requests_per_s": len(done) / seconds,
            f"{self.unit}_per_s": self.items.get(phase, 0) / seconds,
            "p50_ms": _quantile(done, 0.50) * 1000,
            "p99_ms": _quantile(done, 0.99) * 1000,
            "errors": len(self.errors.get(phase, [])),
            "first_errors": self.errors.get(phase, [])[:5],
        }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def paced(rate: float, until: float) -> Iterator[int]:
    """Yields 0, 1, 2 ... at ``rate`` a second (open loop: a late tick fires at once) until
    ``until`` (monotonic)."""
    started = time.monotonic()
    n = 0
    while True:
        due = started + n / rate
        if due >= until:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        yield n
        n += 1


def memory_kib(pid: int) -> int:
    """Resident set size (VmRSS) of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# -- the doors ------------------------------------------------------------------------------------


class TimedSender(Sender):
    """A hospital's native sender that times every gateway call and counts what was refused."""

    def __init__(self, url: str, apps: dict[str, HospitalApp], door: Door) -> None:
        super().__init__(url, apps)
        self.door = door
        self.phase = "alone"

    def _call(self, action: Callable[[VteXClient], Reply], batch: Batch) -> Reply | None:
        started = time.perf_counter()
        reply = super()._call(action, batch)
        latency = time.perf_counter() - started
        if reply is None:
            error: str | None = f"{batch.batch_no}: transport error"
        elif reply.code != "0":
            error = f"{batch.batch_no}: code {reply.code}"
        elif (reply.payload or {}).get("failCount", 0):
            error = f"{batch.batch_no}: {reply.payload and reply.payload['failCount']} refused"
        else:
            error = None
        self.door.record(self.phase, latency, len(batch.records), error)
        return reply


@dataclass
class Hospitals:
    """The native hospitals: one sender and one queue of batches each (shared by both phases)."""

    senders: dict[str, TimedSender]
    queues: dict[str, list[Batch]]
    records_per_second: float  # of each hospital

    def run(self, phase: str, until: float) -> None:
        threads = [
            threading.Thread(target=self._one, args=(org, phase, until), name=f"native-{org[-4:]}")
            for org in self.senders
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _one(self, org: str, phase: str, until: float) -> None:
        """Paced by records, not batches: a short batch (the end of a record type) counts less."""
        sender, queue = self.senders[org], self.queues[org]
        sender.phase = phase
        # Hospitals do not start in step: each begins at a random point of its first interval.
        time.sleep(random.Random(org).uniform(0, BATCH / self.records_per_second))
        started, sent = time.monotonic(), 0
        while queue:
            due = started + sent / self.records_per_second
            if due >= until:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            batch = queue.pop(0)
            sender.send([batch], deadline_s=300)
            sent += len(batch.records)


@dataclass
class FhirDoor:
    """The FHIR-side clients: two hospitals, the researchers, QC; tokens fetched per phase."""

    url: str
    kit: Any
    stays: Any
    hospitals: list[Any]  # smart_kit.SystemClient
    researchers: list[Any]
    qc: Any
    rates: Rates
    rng: random.Random = field(default_factory=lambda: random.Random(15))

    def token(self, http: httpx.Client, client: Any, scope: str) -> str:
        token: str = self.kit.get_token(http, client, self.url, scope, post_base=self.url)
        return token

    def write(self, door: Door, phase: str, until: float) -> None:
        threads = [
            threading.Thread(target=self._writer, args=(h, door, phase, until))
            for h in self.hospitals
        ]
        _run_all(threads)

    def _writer(self, client: Any, door: Door, phase: str, until: float) -> None:
        with httpx.Client(timeout=180) as http:
            headers = {"Authorization": f"Bearer {self.token(http, client, 'system/*.crus')}"}
            for _ in paced(self.rates.fhir_bundles_per_second / len(self.hospitals), until):
                bundle = self.stays.stay_bundle(client.org, self.stays.resident_id(self.rng))
                started = time.perf_counter()
                error = None
                try:
                    response = http.post(f"{self.url}/fhir", json=bundle, headers=headers)
                    statuses = [e["response"]["status"] for e in response.json().get("entry", [])]
                    if response.status_code != 200 or not all(s[:1] == "2" for s in statuses):
                        error = _problem(response)
                except (httpx.HTTPError, ValueError) as exc:
                    error = type(exc).__name__
                door.record(phase, time.perf_counter() - started, len(bundle["entry"]), error)

    def read(self, door: Door, phase: str, until: float) -> None:
        threads = [
            threading.Thread(target=self._reader, args=(r, n, door, phase, until))
            for n, r in enumerate(self.researchers)
        ]
        _run_all(threads)

    def _reader(self, client: Any, n: int, door: Door, phase: str, until: float) -> None:
        """Pages through one search after another: the first page, then its next links."""
        with httpx.Client(timeout=180) as http:
            headers = {"Authorization": f"Bearer {self.token(http, client, 'system/*.rs')}"}
            url: str | None = None
            pages = 0
            for tick in paced(self.rates.read_pages_per_second / len(self.researchers), until):
                if url is None or pages >= PAGES_PER_SEARCH:
                    kind = SEARCHES[(tick + n) % len(SEARCHES)]
                    url, pages = f"{self.url}/fhir/{kind}?_count=20", 0
                started = time.perf_counter()
                error, entries = None, 0
                try:
                    response = http.get(url, headers=headers)
                    body = response.json()
                    if response.status_code != 200 or body.get("resourceType") != "Bundle":
                        error = _problem(response)
                        url = None
                    else:
                        entries = len(body.get("entry", []))
                        links = {lk["relation"]: lk["url"] for lk in body.get("link", [])}
                        url, pages = links.get("next"), pages + 1
                except (httpx.HTTPError, ValueError) as exc:
                    error, url = type(exc).__name__, None
                door.record(phase, time.perf_counter() - started, entries, error)

    def refresh(self, door: Door, phase: str, until: float) -> None:
        """One indicator refresh after another (a pause between), until ``until``."""
        with httpx.Client(timeout=900) as http:
            headers = {"Authorization": f"Bearer {self.token(http, self.qc, 'system/*.rs')}"}
            while time.monotonic() < until:
                started = time.perf_counter()
                error, tables = None, 0
                try:
                    response = http.post(
                        f"{self.url}/indicators/$evaluate",
                        params={"period": PERIOD},
                        headers=headers,
                    )
                    if response.status_code != 200:
                        error = _problem(response)
                    else:
                        tables = len(response.json()["tables"])
                except (httpx.HTTPError, ValueError) as exc:
                    error = type(exc).__name__
                door.record(phase, time.perf_counter() - started, tables, error)
                time.sleep(min(INDICATOR_PAUSE, max(0.0, until - time.monotonic())))


def _problem(response: httpx.Response) -> str:
    """A refused request in one line: the status and the OperationOutcome's diagnostics."""
    try:
        issues = response.json().get("issue", [])
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    said = "; ".join(str(i.get("diagnostics", i.get("code", ""))) for i in issues)
    return f"HTTP {response.status_code}: {said[:500]}"


def _run_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- set-up ---------------------------------------------------------------------------------------


async def _register(site: Site, region: Region) -> dict[str, HospitalApp]:
    upstream = UpstreamClient(site.settings)
    try:
        return dict(await register_region(site.settings, site.database, upstream, region))
    finally:
        await upstream.aclose()


def native_hospitals(site: Site, rates: Rates, door: Door) -> Hospitals:
    """Twenty registered hospitals with enough batches for both phases at the target rate."""
    records = rates.native_records_per_second * (WARMUP + SECONDS) * 1.2
    stays = max(math.ceil(records / RECORDS_PER_STAY), 2 * NATIVE_HOSPITALS)
    run = f"load{os.getpid()}"
    region = generate(RegionSpec(seed=15, hospitals=NATIVE_HOSPITALS, encounters=stays, run=run))
    apps = asyncio.run(_register(site, region))
    batches = plan_batches(region, run, batch_size=BATCH)
    url = site.facade(0).url
    return Hospitals(
        {org: TimedSender(url, {org: app}, door) for org, app in apps.items()},
        {org: [b for b in batches if b.org == org] for org in apps},
        rates.native_records_per_second / NATIVE_HOSPITALS,
    )


def fhir_clients(site: Site, rates: Rates) -> FhirDoor:
    """Two FHIR hospitals (admitted institutions), the researchers and a QC client."""
    kit, stays = test_kits()
    database = site.database
    # Registered like the native ones (Organization published, institution admitted).
    region = generate(RegionSpec(seed=17, hospitals=FHIR_HOSPITALS, encounters=4, run="loadfhir"))
    orgs = asyncio.run(_register(site, region))
    hospitals = [
        kit.register(database, "hospital", org=org, scopes="system/*.crus") for org in orgs
    ]
    researchers = [kit.register(database, "researcher") for _ in range(RESEARCHERS)]
    return FhirDoor(
        site.facade(0).url, kit, stays, hospitals, researchers, kit.register(database, "qc"), rates
    )


def preload(site: Site) -> int:
    """A region straight into HAPI, for researchers and indicators to read from the start."""
    region = generate(RegionSpec(seed=16, hospitals=3, encounters=PRELOAD_STAYS, run="loadpre"))
    return asyncio.run(DirectLoader(site.settings).load(region)).resources


# -- the benchmark --------------------------------------------------------------------------------


def _print_door(door: Door, phase: str) -> None:
    s = door.summary(phase)
    print(
        f"  {phase:5s} {door.name:10s} {s['requests']:6d} req {s['requests_per_s']:7.2f} req/s "
        f"{s[f'{door.unit}_per_s']:8.2f} {door.unit}/s  p50 {s['p50_ms']:8.1f} ms  "
        f"p99 {s['p99_ms']:8.1f} ms  errors {s['errors']}"
        + (f"  e.g. {s['first_errors'][:2]}" if s["errors"] else "")
    )


def main() -> None:
    rates = Rates.target()
    print(
        f"== load: {DAILY_STAYS:.0f} stays/day x {FACTOR:g} = {rates.stays_per_second:.3f} stays/s; "
        f"native {rates.native_records_per_second:.2f} records/s from {NATIVE_HOSPITALS} hospitals "
        f"(batches of {BATCH}), FHIR {rates.fhir_bundles_per_second:.3f} bundles/s from "
        f"{FHIR_HOSPITALS}, reads {rates.read_pages_per_second:g} pages/s from {RESEARCHERS} "
        f"researchers, indicator refresh every {INDICATOR_PAUSE:g} s after the last; "
        f"{WARMUP:g} s per door alone, {SECONDS:g} s mixed; load average {os.getloadavg()[0]:.2f}"
    )
    site = Site(
        STATE / "site",
        Ports(postgres=HAPI_PORT + 47000, hapi=HAPI_PORT, facade=HAPI_PORT + 5),
        facade_env={"VTE_ACCESS_TOKEN_TTL_SECONDS": "3600"},
    )
    doors = {
        "native": Door("native", "records"),
        "fhir-write": Door("fhir-write", "resources"),
        "fhir-read": Door("fhir-read", "resources"),
        "indicators": Door("indicators", "tables"),
    }
    results: dict[str, Any] = {"rates": rates.__dict__}
    try:
        results["startup"] = site.start()
        started = time.monotonic()
        results["preloaded_resources"] = preload(site)
        print(
            f"  site {results['startup']}, preloaded {results['preloaded_resources']} resources "
            f"in {time.monotonic() - started:.0f} s"
        )
        site.facade(0).start()
        hospitals = native_hospitals(site, rates, doors["native"])
        fhir = fhir_clients(site, rates)
        work: dict[str, Callable[[str, float], None]] = {
            "native": hospitals.run,
            "fhir-write": lambda p, u: fhir.write(doors["fhir-write"], p, u),
            "fhir-read": lambda p, u: fhir.read(doors["fhir-read"], p, u),
            "indicators": lambda p, u: fhir.refresh(doors["indicators"], p, u),
        }
        pids = {"facade": _pid(site), "hapi": site.hapi.status().pid or 0}
        memory: dict[str, dict[str, int]] = {"before_baseline": _memory(pids)}

        for name in DOORS:
            _phase("alone", WARMUP, {name: doors[name]}, work)
            _print_door(doors[name], "alone")
        memory["mixed_start"] = _memory(pids)
        watch_memory = MemoryWatch(pids)
        with watch_memory:
            _phase("mixed", SECONDS, doors, work)
        memory["mixed_end"] = _memory(pids)
        results["load_average_mixed"] = watch_memory.samples
        results["rss_mib_every_5s"] = watch_memory.rss
        watch = QueueWatch(site.database, list(hospitals.senders))
        drain_started = time.monotonic()
        final = watch.wait("drained", timeout=900)
        results["drain_s"] = time.monotonic() - drain_started
        results["receipts"] = final.__dict__
        results["memory_kib"] = memory
        results["doors"] = {
            n: {p: d.summary(p) for p in ("alone", "mixed")} for n, d in doors.items()
        }
        ok = _report(doors, memory, final.failed, results)
    finally:
        site.stop()
        STATE.mkdir(parents=True, exist_ok=True)
        (STATE / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if not ok:
        raise SystemExit(1)


def _pid(site: Site) -> int:
    process = site.facade(0).process
    assert process is not None
    return process.pid


def _memory(pids: dict[str, int]) -> dict[str, int]:
    return {name: memory_kib(pid) for name, pid in pids.items()}


def _phase(
    phase: str,
    seconds: float,
    doors: dict[str, Door],
    work: dict[str, Callable[[str, float], None]],
) -> None:
    """Run each door's work in a thread for ``seconds``; a door's phase lasts until its own work
    returned (an indicator refresh in flight at the deadline is finished, not cut)."""
    until = time.monotonic() + seconds

    def timed(door: Door) -> None:
        started = time.monotonic()
        work[door.name](phase, until)
        door.seconds[phase] = time.monotonic() - started

    _run_all([threading.Thread(target=timed, args=(door,)) for door in doors.values()])


class MemoryWatch(LoadMeter):
    """The load meter's 5-second samples, plus the processes' RSS (MiB) at each sample."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__()
        self.pids = pids
        self.rss: list[dict[str, int]] = []

    def _run(self) -> None:
        while not self._stop.wait(5.0):
            self.samples.append(os.getloadavg()[0])
            self.rss.append({n: kib // 1024 for n, kib in _memory(self.pids).items()})


def _report(
    doors: dict[str, Door], memory: dict[str, dict[str, int]], failed: int, results: dict[str, Any]
) -> bool:
    print(f"\n== load: mixed for {SECONDS:g} s (load average {os.getloadavg()[0]:.2f})")
    for door in doors.values():
        _print_door(door, "mixed")
    print("== load: mixed / alone (same run)")
    for name, door in doors.items():
        alone, mixed = door.summary("alone"), door.summary("mixed")
        print(
            f"  {name:10s} p50 x{mixed['p50_ms'] / alone['p50_ms']:.2f}  "
            f"p99 x{mixed['p99_ms'] / alone['p99_ms']:.2f}  "
            f"requests/s x{mixed['requests_per_s'] / alone['requests_per_s']:.2f}  "
            f"{door.unit}/s x{mixed[f'{door.unit}_per_s'] / alone[f'{door.unit}_per_s']:.2f}"
        )
    errors: int = sum(len(d.errors.get(p, [])) for d in doors.values() for p in ("alone", "mixed"))
    errors += failed
    print(
        f"  drained {results['drain_s']:.0f} s after the mixed phase; receipts {results['receipts']}"
    )
    ok = errors == 0
    print(
        f"  errors (every door, both phases, FAILED receipts): {errors} -> {'PASS' if ok else 'FAIL'}"
    )
    for name in ("facade", "hapi"):
        start, end = memory["mixed_start"][name], memory["mixed_end"][name]
        ratio = end / start
        verdict = ratio <= MEMORY_LIMIT
        ok = ok and verdict
        print(
            f"  {name:6s} RSS {start / 1024:7.0f} MiB -> {end / 1024:7.0f} MiB "
            f"(end/start {ratio:.3f}, limit {MEMORY_LIMIT}) {'PASS' if verdict else 'FAIL'}"
            f"  [before the baseline: {memory['before_baseline'][name] / 1024:.0f} MiB]"
        )
    trail = results["rss_mib_every_5s"][::6]
    print(f"  RSS every 30 s of the mixed phase (MiB): {[tuple(t.values()) for t in trail]}")
    results["errors"], results["ok"] = errors, ok
    return ok


if __name__ == "__main__":
    main()
