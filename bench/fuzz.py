"""Schemathesis over every route of the facade's OpenAPI, in-process: no 5xx, replies as declared.

Cases are generated from the app's own ``/openapi.json`` (positive and negative data, fixed
seed, a budget of examples per operation) and sent through one Starlette ``TestClient`` whose
lifespan runs once, so the app's services (database, upstream client) live the whole run. Each
case goes out with one of several callers in turn (nobody, and a bearer token per role), so the
fuzz reaches the handlers behind the caller check and not only the 401 in front of it.

Some doors read their body raw (the FHIR door takes any resource, the token endpoint a form), so
their OpenAPI operations declare no body; ``with_bodies`` adds a loose one for the fuzz only, so
bodies are generated for them too. ``python -m bench fuzz`` runs a longer budget than the tests.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from starlette.testclient import TestClient

FHIR_JSON = "application/fhir+json"
_RESOURCE_BODY = {"type": "object", "properties": {"resourceType": {"type": "string"}}}
_TOKEN_FORM = {
    "type": "object",
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials", "password", ""]},
        "client_assertion_type": {"type": "string"},
        "client_assertion": {"type": "string"},
        "scope": {"type": "string"},
    },
}
# The checks each reply must pass: never a 5xx, the declared media type, the declared schema.
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzReport:
    """What a run sent and what came back."""

    cases: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        """Replies with a status of 500 or more."""
        return sum(n for status, n in self.by_status.items() if status >= 500)

    def summary(self) -> str:
        """One line for a log or the bench README."""
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.by_status.items()))
        return (
            f"{self.cases} cases over {len(self.by_operation)} operations in "
            f"{self.seconds:.0f} s; {self.server_errors} replies >= 500; "
            f"{len(self.failures)} check failures; statuses {{{statuses}}}"
        )


def with_bodies(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with a loose request body on the operations that read theirs raw."""
    spec = copy.deepcopy(spec)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation or method not in ("post", "put"):
                continue
            if path == "/auth/token":
                content = {"application/x-www-form-urlencoded": {"schema": _TOKEN_FORM}}
            elif path.startswith(("/fhir", "/vte-x")):
                content = {FHIR_JSON: {"schema": _RESOURCE_BODY}, "application/json": {}}
            else:
                continue
            operation["requestBody"] = {"required": False, "content": content}
    return spec


def _send(http: TestClient, kwargs: dict[str, Any]) -> Any:
    # Schemathesis serialises for `requests`; the TestClient speaks httpx.
    kwargs = dict(kwargs)
    data = kwargs.pop("data", None)
    if isinstance(data, (bytes, str)):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("auth", None)
    cookies = kwargs.pop("cookies", None)
    http.cookies.clear()
    if cookies:
        http.cookies.update(cookies)
    return http.request(**kwargs)


def fuzz_app(
    http: TestClient,
    callers: Sequence[dict[str, str]],
    *,
    examples: int,
    run_seed: int = 15,
    include: Callable[[str], bool] = lambda path: True,
) -> FuzzReport:
    """Fuzz every operation of ``http``'s app whose path ``include`` accepts, ``examples``
    generated cases each (positive and negative), cycling through ``callers``' headers."""
    spec = with_bodies(http.get("/openapi.json").json())
    schema = schemathesis.openapi.from_dict(spec)
    report = FuzzReport()
    started = time.monotonic()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the spec declares an operation schemathesis cannot build
            raise result.err()
        operation = result.ok()
        if include(operation.path):
            _fuzz_operation(http, operation, callers, report, examples, run_seed)
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(
    http: TestClient,
    operation: Any,
    callers: Sequence[dict[str, str]],
    report: FuzzReport,
    examples: int,
    run_seed: int,
) -> None:
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = callers[report.cases % len(callers)]
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        response = _send(http, kwargs)
        report.cases += 1
        report.by_status[response.status_code] += 1
        report.by_operation[operation.label] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
        except (AssertionError, FailureGroup) as failure:
            report.failures.append(f"{operation.label}: {str(failure)[:600]}")

    run()


def main() -> None:
    """``python -m bench fuzz``: both fuzzers with budgets ten times CI's, through pytest (the
    tests own the harness and the real HAPI session); exits non-zero on any failure."""
    env = {
        **os.environ,
        "VTE_NATIVE_FUZZ_EXAMPLES": os.environ.get("VTE_BENCH_NATIVE_FUZZ_EXAMPLES", "50000"),
        "VTE_API_FUZZ_EXAMPLES": os.environ.get("VTE_BENCH_API_FUZZ_EXAMPLES", "1500"),
        "VTE_FUZZ_SEED": os.environ.get("VTE_FUZZ_SEED", str(int(time.time()))),
    }
    env.setdefault("VTE_TEST_HAPI_PORT", env.get("VTE_BENCH_HAPI_PORT", "8097"))
    print(
        f"fuzz: seed {env['VTE_FUZZ_SEED']}, native {env['VTE_NATIVE_FUZZ_EXAMPLES']} envelopes, "
        f"{env['VTE_API_FUZZ_EXAMPLES']} examples per OpenAPI operation"
    )
    started = time.monotonic()
    code = subprocess.call(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/native/test_native_fuzz.py",
            "tests/api/test_api_fuzz.py",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )
    print(f"fuzz: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if code:
        raise SystemExit(code)
