"""Test kit for what one request costs HAPI: its CPU from /proc, and the issue's nested-extension probes.

The probe nests the guide's own (simple) sex extension inside itself: HAPI's validator tries to
match every level against the profile's slices, which is what made its cost explode (measured on
HAPI 8.8 before the limits: 8 levels 0.6 CPU-s, 12 levels 3 CPU-s, 50 did not end in 25 minutes).
Bodies are built as text: JSON encoders recurse, and orjson refuses more than 254 levels.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "profiles" / "fsh-generated" / "resources"
SEX_URL = "https://fhir.vte-region.cn/ig/StructureDefinition/gbt-2261-1-sex"
_HOLE = "__nested__"
_TICKS = os.sysconf("SC_CLK_TCK")


class HapiMeter:
    """What a HAPI process is doing, from /proc: its CPU time and its request threads' states."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def busy_request_threads(self) -> int:
        """Tomcat request threads (``http-nio-...``) running or waiting for a core right now.

        A validator still at work keeps its request thread runnable however loaded the machine
        is, so this tells "idle" from "starved" where the CPU time alone could not.
        """
        busy = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            state = stat[stat.rindex(")") + 2]
            busy += name.startswith("http-nio") and state == "R"
        return busy

    def idle_after(self, limit: float = 1.0, window: float = 0.25, samples: int = 10) -> float:
        """Seconds until a ``window`` passes with no request thread busy in any of ``samples``
        looks; inf if that does not happen within ``limit`` seconds."""
        start = time.monotonic()
        while True:
            began = time.monotonic()
            if began - start > limit:
                return float("inf")
            quiet = True
            for _ in range(samples):
                quiet = quiet and self.busy_request_threads() == 0
                time.sleep(window / samples)
            if quiet:
                return began - start


def wall_budget(seconds: float) -> float:
    """``seconds`` on an idle machine, stretched by the run queue (os.getloadavg) of a shared one.

    The load-independent claims are the CPU ones; this keeps the wall-clock one honest on an idle
    2-core box without failing on a machine running five other test suites.
    """
    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def patient(id_number: str | None = None) -> dict[str, Any]:
    """The guide's example Patient as a hospital sends it (no id or tag; identity number in clear)."""
    resource: dict[str, Any] = json.loads(
        (EXAMPLES / "Patient-vte-patient-example.json").read_text()
    )
    resource.pop("id")
    resource["meta"].pop("tag")
    if id_number is not None:
        resource["identifier"] = [{"system": "urn:oid:2.16.156.10011.1.3", "value": id_number}]
    return resource


def nested_patient_text(depth: int, base: dict[str, Any]) -> str:
    """``base`` with one more extension, nesting ``depth`` deep, as JSON text."""
    resource = json.loads(json.dumps(base))
    resource["extension"].append(_HOLE)
    inner = json.dumps({"url": SEX_URL, "valueString": "x"})
    opening = '{"url": "' + SEX_URL + '", "extension": ['
    nested = opening * (depth - 1) + inner + "]}" * (depth - 1)
    return json.dumps(resource, ensure_ascii=False).replace(json.dumps(_HOLE), nested)


def transaction_text(resource_text: str, resource_type: str = "Patient") -> str:
    """A one-entry transaction Bundle around a resource given as JSON text."""
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": _HOLE,
                "request": {"method": "POST", "url": resource_type},
            }
        ],
    }
    return json.dumps(bundle).replace(json.dumps(_HOLE), resource_text)
