"""The facade's metric families (process-wide, as Prometheus client libraries intend).

Label values come from small fixed sets (door, status class, VTE-X code, HTTP method), never
from request data, so the number of series stays bounded whatever callers send.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Doors by path prefix, most specific first.
DOORS = (
    ("/vte-x/v1/excel", "excel"),
    ("/vte-x/", "native"),
    ("/fhir", "fhir"),
    ("/auth", "auth"),
    ("/.well-known", "auth"),
    ("/indicators", "indicators"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/metrics", "metrics"),
)

HTTP_REQUESTS = Counter(
    "vte_http_requests",
    "HTTP requests answered, by door and outcome (status class).",
    ["door", "outcome"],
)
HTTP_LATENCY = Histogram(
    "vte_http_request_duration_seconds",
    "Time to answer an HTTP request, by door.",
    ["door"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
NATIVE_REPLIES = Counter(
    "vte_native_replies",
    "VTE-X gateway replies by result code (0 = processed; 1xxx/2xxx refused; 5xxx failed).",
    ["code"],
)
UPSTREAM_LATENCY = Histogram(
    "vte_upstream_request_duration_seconds",
    "Requests to HAPI: time from leaving the facade's queue to the answer, by method and outcome.",
    ["method", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
INDICATOR_RUNS = Histogram(
    "vte_indicator_run_duration_seconds",
    "Duration of one indicator evaluation (all selected indicators of a period).",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)


def door_of(path: str) -> str:
    """The door a request path belongs to (``other`` for anything unknown)."""
    for prefix, door in DOORS:
        if path.startswith(prefix):
            return door
    return "other"


def status_class(status: int) -> str:
    """``2xx``, ``4xx`` ...: the outcome label of an HTTP status."""
    return f"{status // 100}xx"


VALIDATION_SAMPLES = Counter(
    "vte_forward_validation_samples",
    "The forwarder's sampled $validate of stored records: per resource checked, valid or "
    "invalid; per sampled record not checked in full, unchecked (HAPI could not answer; the "
    "rest of the record is skipped), dropped (the sample queue was full) or over_budget "
    "(beyond forward_validate_per_minute resources a minute).",
    ["outcome"],
)
VALIDATION_ALARMS = Counter(
    "vte_forward_validation_alarms",
    "Stored resources that failed $validate in the forwarder's sampled check (should stay 0).",
)
FORWARDED_RECORDS = Counter(
    "vte_forward_records",
    "Records the forwarder settled, by outcome (stored, failed, released for a retry).",
    ["outcome"],
)
