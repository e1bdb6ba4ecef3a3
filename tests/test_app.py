"""The app's own middleware: gzip answers for clients that accept them, the request id on each."""

from __future__ import annotations

import gzip

import orjson
from fastapi.testclient import TestClient


def test_answers_are_gzipped_only_for_clients_that_accept_it(client: TestClient) -> None:
    plain = client.get("/fhir/metadata", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert len(plain.content) > 1024  # large enough to be worth compressing
    # httpx would decompress silently: read the raw bytes to see what travelled.
    with client.stream("GET", "/fhir/metadata", headers={"Accept-Encoding": "gzip"}) as packed:
        assert packed.headers["content-encoding"] == "gzip"
        assert "X-Request-ID" in packed.headers
        raw = b"".join(packed.iter_raw())
    assert len(raw) < len(plain.content) / 3
    assert orjson.loads(gzip.decompress(raw)) == plain.json()
