"""Request IDs: generated, accepted from a trusted proxy only, echoed, in JSON-RPC errors and log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx2
import pytest

from app.log import TEXT_FORMAT
from app.main import create_app
from app.observe.request_id import RequestIdGenerator, sane_request_id
from app.runtime import Runtime, build_runtime
from tests.conftest import ConfigFactory
from tests.integration.observe.recorder import RecordingObserver

pytestmark = pytest.mark.anyio


def client_for(runtime: Runtime, peer: str) -> httpx2.AsyncClient:
    app = create_app(runtime=runtime)
    transport = httpx2.ASGITransport(app=app, client=(peer, 4321))
    return httpx2.AsyncClient(transport=transport, base_url=runtime.config.public_url)


@pytest.fixture
def proxied_runtime(make_config: ConfigFactory) -> Iterator[Runtime]:
    """Behind a proxy at 10.0.0.0/8, with one (never started) server."""
    config = make_config(
        listen={"trusted_proxies": ["10.0.0.0/8"]}, servers={"files": {"transport": "stdio", "command": "true"}}
    )
    runtime = build_runtime(config, env={})
    yield runtime
    runtime.close()


async def test_every_response_carries_a_generated_request_id(proxied_runtime: Runtime) -> None:
    async with client_for(proxied_runtime, "192.0.2.9") as http:
        first, second = await http.get("/healthz"), await http.get("/healthz")
    assert len(first.headers["x-request-id"]) == 24
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_trusted_proxy_s_request_id_is_kept(proxied_runtime: Runtime) -> None:
    async with client_for(proxied_runtime, "10.1.2.3") as http:
        answer = await http.get("/healthz", headers={"x-request-id": "edge-4711"})
    assert answer.headers["x-request-id"] == "edge-4711"


async def test_a_client_s_own_request_id_is_replaced(proxied_runtime: Runtime) -> None:
    async with client_for(proxied_runtime, "192.0.2.9") as http:
        answer = await http.get("/healthz", headers={"x-request-id": "client-chosen"})
    assert answer.headers["x-request-id"] != "client-chosen"


@pytest.mark.parametrize("value", ["a b", "x" * 129, "é", ""])
async def test_a_malformed_request_id_from_a_trusted_proxy_is_replaced(proxied_runtime: Runtime, value: str) -> None:
    async with client_for(proxied_runtime, "10.1.2.3") as http:
        answer = await http.get("/healthz", headers={b"x-request-id": value.encode("utf-8")})
    assert answer.headers["x-request-id"] != value and len(answer.headers["x-request-id"]) == 24


def test_sane_request_ids_are_visible_ascii_up_to_128() -> None:
    assert sane_request_id(b"x" * 128) == "x" * 128
    assert sane_request_id(b"x" * 129) is None
    assert sane_request_id(b"a\tb") is None


def test_generated_ids_are_unique_in_and_across_processes() -> None:
    one, other = RequestIdGenerator(), RequestIdGenerator()
    ids = {one() for _ in range(1000)} | {other() for _ in range(1000)}
    assert len(ids) == 2000


async def test_a_json_rpc_error_carries_the_request_id(proxied_runtime: Runtime) -> None:
    observer = RecordingObserver()
    proxied_runtime.events.add_mcp(observer)
    async with client_for(proxied_runtime, "10.1.2.3") as http:
        answer = await http.post(
            "/files/mcp",
            headers={"x-request-id": "edge-42", "origin": "https://evil.example"},
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert answer.status_code == 403
    assert answer.json()["error"]["data"]["request_id"] == "edge-42"
    assert observer.records[0].request_id == "edge-42"


async def test_log_lines_written_while_serving_carry_the_request_id(
    proxied_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_for(proxied_runtime, "10.1.2.3") as http:
        answer = await http.post("/files/mcp", headers={"x-request-id": "edge-43"}, json={"jsonrpc": "2.0"})
    assert answer.status_code == 401
    served = [r for r in caplog.records if r.name.startswith("portico")]
    assert served and all(getattr(r, "request_id", None) == "edge-43" for r in served)
    assert "[edge-43]" in logging.Formatter(TEXT_FORMAT).format(served[0])
