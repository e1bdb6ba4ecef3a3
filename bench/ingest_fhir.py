"""The ingest benchmark's FHIR-door part: hospital transaction Bundles through the facade's FHIR door
against the very same Bundles posted straight to HAPI, both fully validated.

A FHIR-capable hospital (an admitted institution with a SMART Backend Services client, scope
``system/*.crus``, as ``tests/frontdoor`` registers one) posts one transaction Bundle per
inpatient stay: the guide's stay, re-homed to the hospital, with a fresh identity number and case
number each (``tests/frontdoor/frontdoor_stay.py``). The baseline is what the door itself would
send HAPI for each Bundle (its intake checks run here, untimed: tag, pseudonymised identity
number, declared profiles, ``_tag``-confined conditional creates), posted straight to HAPI.
Neither side carries the trusted-write header: HAPI validates every resource against the profiles
it declares, as it does for every hospital write.

Both run at concurrency 1 and 4 in alternating blocks (direct, door, door, direct, ...) so that a
change of machine load weighs on both alike. Reported per concurrency: resources per second of
each, the ratio door / direct, and the facade process's CPU per Bundle.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.cores import cpu_seconds
from bench.ingest_stack import LoadMeter, Stack
from bench.kits import test_kits
from facade.frontdoor.entries import parse_bundle
from facade.frontdoor.intake import IntakeChecker
from facade.frontdoor.write import upstream_bundle
from facade.security.roles import Role
from facade.security.scopes import ScopeSet
from facade.security.tokens import Principal
from facade.settings import Settings
from facade.synth.generator import RegionSpec, generate
from facade.synth.push import register_region
from facade.upstream import UpstreamClient

SCOPE = "system/*.crus"
CONCURRENCIES = (1, 4)
BLOCKS = 4  # blocks per door and concurrency, alternating which door goes first
WARMUP = 4  # Bundles each way before the clock starts (HAPI's validator loads its support chain)


@dataclass
class Tally:
    """What one door moved at one concurrency."""

    bundles: int = 0
    resources: int = 0
    seconds: float = 0.0
    facade_cpu: float = 0.0
    hapi_cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Resources per second."""
        return self.resources / self.seconds if self.seconds else 0.0


@dataclass
class Door:
    """Where Bundles go and how: the facade's door (a token) or HAPI itself (no credentials)."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def hospital(stack: Stack, settings: Settings) -> tuple[str, Any]:
    """A hospital admitted like a real one (Organization in HAPI) and its FHIR client."""
    database = stack.migrate(settings)
    region = generate(RegionSpec(seed=11, hospitals=1, encounters=2, run=f"fhir{time.time_ns()}"))

    async def admit() -> str:
        upstream = UpstreamClient(settings)
        try:
            return next(iter(await register_region(settings, database, upstream, region)))
        finally:
            await upstream.aclose()

    org = asyncio.run(admit())
    kit, _ = test_kits()
    client = kit.register(database, "hospital", org=org, scopes=SCOPE)
    database.dispose()
    return org, client


def as_forwarded(settings: Settings, org: str, bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle the door sends HAPI for ``bundle`` posted by ``org``'s hospital client."""
    principal = Principal(
        client_id="bench",
        name="bench",
        role=Role.HOSPITAL,
        org_code=org,
        scopes=ScopeSet.parse(SCOPE),
        token_id="bench",  # noqa: S106  (an id, not a secret)
    )
    checker = IntakeChecker(
        principal, settings.secret("pseudonym_key"), settings.public_base_url + "/fhir"
    )
    bundle_type, entries = parse_bundle(bundle, settings.fhir_max_bundle_entries)
    checker.check_all(entries)
    problems = [issue for entry in entries for issue in entry.issues]
    if problems:
        raise SystemExit(f"the stay Bundle breaks the door's rules: {problems[0]}")
    return upstream_bundle(bundle_type, entries)


def post_all(door: Door, bundles: list[dict[str, Any]], concurrency: int) -> float:
    """Post every Bundle with ``concurrency`` threads; seconds taken. Any refusal ends the run."""
    pending = list(reversed(bundles))
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(timeout=600, headers=door.headers) as http:
            while not errors:
                with lock:
                    if not pending:
                        return
                    bundle = pending.pop()
                response = http.post(
                    door.url, json=bundle, headers={"Content-Type": "application/fhir+json"}
                )
                statuses = [
                    str(e.get("response", {}).get("status", ""))
                    for e in (response.json().get("entry") or [])
                ]
                if response.status_code != 200 or not all(s[:1] == "2" for s in statuses):
                    errors.append(f"{door.name}: {response.status_code} {response.text[:600]}")

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise SystemExit(f"FHIR part: a Bundle was refused — {errors[0]}")
    return seconds


def fhir_part(stack: Stack, settings: Settings, bundles: int) -> dict[str, Any]:
    """``bundles`` stays per door and concurrency, through the door and straight to HAPI."""
    org, client = hospital(stack, settings)
    kit, stays = test_kits()
    rng = random.Random(11)
    per_block = max(1, bundles // BLOCKS)

    def fresh(n: int) -> list[dict[str, Any]]:
        return [stays.stay_bundle(org, stays.resident_id(rng)) for _ in range(n)]

    serve = stack.serve(settings)
    hapi_pid = stack.launcher.status().pid if stack.launcher else None
    base = settings.public_base_url
    results: dict[str, Any] = {"bundles_per_door": per_block * BLOCKS, "org": org}
    try:
        with httpx.Client(timeout=60) as http:
            token = kit.get_token(http, client, base, SCOPE, post_base=base)
        facade = Door("door", f"{base}/fhir", {"Authorization": f"Bearer {token}"})
        direct = Door("direct", settings.fhir_base_url)
        post_all(direct, [as_forwarded(settings, org, b) for b in fresh(WARMUP)], 2)
        post_all(facade, fresh(WARMUP), 2)
        for concurrency in CONCURRENCIES:
            tallies = {"direct": Tally(), "door": Tally()}
            with LoadMeter() as load:
                for block in range(BLOCKS):
                    order = (direct, facade) if block % 2 == 0 else (facade, direct)
                    for door in order:
                        if door is facade:  # a token lives 5 minutes: one per block
                            with httpx.Client(timeout=60) as http:
                                token = kit.get_token(http, client, base, SCOPE, post_base=base)
                            door.headers = {"Authorization": f"Bearer {token}"}
                        batch = fresh(per_block)
                        if door is direct:
                            batch = [as_forwarded(settings, org, b) for b in batch]
                        tally = tallies[door.name]
                        cpu = cpu_seconds(serve.pid)
                        java = cpu_seconds(hapi_pid) if hapi_pid else 0.0
                        tally.seconds += post_all(door, batch, concurrency)
                        tally.facade_cpu += cpu_seconds(serve.pid) - cpu
                        tally.hapi_cpu += (cpu_seconds(hapi_pid) - java) if hapi_pid else 0.0
                        tally.bundles += len(batch)
                        tally.resources += sum(len(b["entry"]) for b in batch)
            results[f"c{concurrency}"] = {
                **{name: {**t.__dict__, "rate": t.rate} for name, t in tallies.items()},
                "ratio": tallies["door"].rate / tallies["direct"].rate,
                "load": load.text,
            }
    finally:
        stack.end(serve)
    return results


def report_fhir(results: dict[str, Any]) -> None:
    """Print the FHIR part."""
    print(f"\n== FHIR door, {results['bundles_per_door']} stay Bundles per door and concurrency")
    for concurrency in CONCURRENCIES:
        part = results[f"c{concurrency}"]
        direct, door = part["direct"], part["door"]
        print(
            f"  c={concurrency}: direct to HAPI {direct['resources']:6d} res in "
            f"{direct['seconds']:6.1f} s = {direct['rate']:5.1f} res/s;  through the door "
            f"{door['resources']:6d} res in {door['seconds']:6.1f} s = {door['rate']:5.1f} res/s;  "
            f"ratio {part['ratio']:.2f} (target ≥ 0.90);  facade CPU "
            f"{1000 * door['facade_cpu'] / max(door['bundles'], 1):.0f} ms/Bundle "
            f"(idle while direct: {1000 * direct['facade_cpu'] / max(direct['bundles'], 1):.0f});  "
            f"HAPI CPU {1000 * direct['hapi_cpu'] / max(direct['bundles'], 1):.0f} / "
            f"{1000 * door['hapi_cpu'] / max(door['bundles'], 1):.0f} ms/Bundle direct / door; "
            f"load {part['load']}"
        )
