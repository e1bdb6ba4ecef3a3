"""UpstreamClient against a scripted transport: error classification, counts and paging."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from facade.errors import UpstreamRejected, UpstreamUnavailable
from facade.settings import Settings
from facade.upstream import UpstreamClient

BASE = "http://hapi.test/fhir"


def _client(tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response]) -> UpstreamClient:
    settings = Settings(environment="test", var_dir=tmp_path, fhir_base_url=BASE)
    return UpstreamClient(settings, transport=httpx.MockTransport(handler))


def _json(status: int, body: object) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(body), headers={"Content-Type": "application/fhir+json"}
    )


async def _collect(client: UpstreamClient, resource_type: str) -> list[dict[str, object]]:
    return [r async for r in client.iter_search(resource_type, {"_count": "2"})]


@pytest.mark.anyio
async def test_rejection_carries_hapi_message_and_status(tmp_path: Path) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "processing", "diagnostics": "HAPI-0450: bad gender"}
        ],
    }
    client = _client(tmp_path, lambda _r: _json(422, outcome))
    with pytest.raises(UpstreamRejected) as info:
        await client.send_json("POST", "Patient", {"resourceType": "Patient", "gender": "x"})
    assert info.value.upstream_status == 422
    assert info.value.message == "HAPI-0450: bad gender"
    assert info.value.outcome == outcome


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retryable_statuses_are_unavailable(tmp_path: Path, status: int) -> None:
    client = _client(tmp_path, lambda _r: httpx.Response(status))
    with pytest.raises(UpstreamUnavailable):
        await client.metadata()


@pytest.mark.anyio
async def test_connection_failure_is_unavailable_and_never_names_the_upstream(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = _client(tmp_path, refuse)
    with caplog.at_level("DEBUG", logger="facade.upstream.client"):
        with pytest.raises(UpstreamUnavailable, match="unreachable") as info:
            await client.metadata()
    assert "hapi.test" not in info.value.message  # clients see this message
    assert "hapi.test" in caplog.text  # the debug log has the address


@pytest.mark.anyio
async def test_rejections_speak_of_the_facade_not_the_upstream(tmp_path: Path) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "not-found",
                "diagnostics": f"HAPI-2001: Resource {BASE}/Patient/x is not known",
                "location": ["http://hapi.test/fhir"],
            }
        ],
    }
    client = _client(tmp_path, lambda _r: _json(404, outcome))
    with pytest.raises(UpstreamRejected) as info:
        await client.get_json("Patient/x")
    assert "hapi.test" not in info.value.message + orjson.dumps(info.value.outcome).decode()
    public = client.address.public_base
    assert info.value.message == f"HAPI-2001: Resource {public}/Patient/x is not known"


@pytest.mark.anyio
async def test_count_uses_summary_count(tmp_path: Path) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return _json(200, {"resourceType": "Bundle", "type": "searchset", "total": 7})

    client = _client(tmp_path, handler)
    assert await client.count("Encounter", {"status": "finished"}) == 7
    assert seen[0].params["_summary"] == "count"
    assert seen[0].params["status"] == "finished"


@pytest.mark.anyio
async def test_count_without_total_is_an_error(tmp_path: Path) -> None:
    client = _client(
        tmp_path, lambda _r: _json(200, {"resourceType": "Bundle", "type": "searchset"})
    )
    with pytest.raises(UpstreamRejected, match="no total"):
        await client.count("Encounter")


@pytest.mark.anyio
async def test_iter_search_follows_next_links_and_skips_includes(tmp_path: Path) -> None:
    def page(n: int, last: bool) -> dict[str, object]:
        links = (
            [] if last else [{"relation": "next", "url": f"{BASE}?_getpages=abc&_offset={n + 2}"}]
        )
        return {
            "resourceType": "Bundle",
            "link": links,
            "entry": [
                {
                    "resource": {"resourceType": "Patient", "id": str(n)},
                    "search": {"mode": "match"},
                },
                {
                    "resource": {"resourceType": "Patient", "id": str(n + 1)},
                    "search": {"mode": "match"},
                },
                {
                    "resource": {"resourceType": "Organization", "id": "o"},
                    "search": {"mode": "include"},
                },
            ],
        }

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("_offset", "0"))
        return _json(200, page(offset, last=offset >= 4))

    ids = [r["id"] for r in await _collect(_client(tmp_path, handler), "Patient")]
    assert ids == ["0", "1", "2", "3", "4", "5"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
