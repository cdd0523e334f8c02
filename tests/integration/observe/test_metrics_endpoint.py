"""``/metrics`` on its own listener, scraped over HTTP after real MCP SDK calls and parsed with prometheus-client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from app.observe.records import AuthEvent
from tests.integration.proxy.gateway.harness import Portico, fixture_stdio_server, free_port, serve_portico
from tests.integration.proxy.policy.paths import POLICY, connect
from tests.support.http_sign_in import DEV_PROVIDER, sign_in_and_get_tokens

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def portico_with_metrics(tmp_path: Path, **options: Any) -> AsyncIterator[tuple[Portico, str]]:
    port = free_port()
    servers = {"files": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers, metrics={"listen": f"127.0.0.1:{port}"}, **options) as portico:
        yield portico, f"http://127.0.0.1:{port}/metrics"


async def scrape(url: str) -> list[Sample]:
    async with httpx2.AsyncClient() as http:
        answer = await http.get(url)
    assert answer.status_code == 200
    return [sample for family in text_string_to_metric_families(answer.text) for sample in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(found)


async def test_calls_on_every_transport_are_counted_by_server_method_era_transport_and_outcome(tmp_path: Path) -> None:
    async with portico_with_metrics(tmp_path, policy=POLICY) as (portico, url):
        async with portico.client("files", mode="legacy") as client:
            await client.call_tool("echo", {"text": "x"})
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"marker": "m"})
        async with portico.client("files") as client:
            await client.call_tool("echo", {"text": "x"})
            with pytest.raises(MCPError):
                await client.get_prompt("greet", {})  # the upstream's -32602: a missing argument
        async with connect(portico, "files", "legacy_sse") as client:
            await client.call_tool("echo", {"text": "x"})
        samples = await scrape(url)
    calls = "portico_mcp_requests_total"
    handshake = {"server": "files", "method": "tools/call", "era": "handshake", "transport": "streamable-http"}
    assert value(samples, calls, **handshake, outcome="ok") == 1
    assert value(samples, calls, **handshake, outcome="error") == 1
    modern = {**handshake, "era": "2026-07-28"}
    assert value(samples, calls, **modern, outcome="ok") == 1
    read = {**modern, "method": "prompts/get", "outcome": "error"}
    assert value(samples, calls, **read) == 1
    legacy = {**handshake, "era": "2024-11-05-sse", "transport": "sse"}
    assert value(samples, calls, **legacy, outcome="ok") == 1
    assert value(samples, "portico_policy_denials_total", server="files") == 1
    assert value(samples, "portico_mcp_request_duration_seconds_count", server="files", method="tools/call") == 4
    hops = value(samples, "portico_upstream_request_duration_seconds_count", server="files")
    assert 4 <= hops < value(samples, "portico_mcp_request_duration_seconds_count", server="files")  # denied: no hop
    assert value(samples, "portico_upstream_up", server="files") == 1
    assert value(samples, "portico_database_up") == 1
    assert value(samples, "portico_stdio_processes", server="files") >= 1
    assert [s for s in samples if s.name == "portico_build_info"][0].labels["version"]
    names = {s.name for s in samples}
    exported = {"portico_mcp_sessions", "portico_open_streams", "portico_dropped_notifications_total"}
    assert exported | {"portico_audit_dropped_total"} <= names
    for sample in samples:  # bounded labels: no user, email or argument ever
        assert "example.com" not in str(sample.labels) and "delete_repo" not in str(sample.labels)


async def test_an_unknown_server_name_is_counted_as_other(tmp_path: Path) -> None:
    async with portico_with_metrics(tmp_path) as (portico, url):
        async with httpx2.AsyncClient() as http:
            for name in ("nope-1", "nope-2"):
                await http.post(f"{portico.base_url}/{name}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "x"})
        samples = await scrape(url)
    servers = {s.labels.get("server") for s in samples if s.name == "portico_mcp_requests_total"}
    assert servers == {"other"}
    assert value(samples, "portico_mcp_requests_total", method="none", outcome="http_error") == 2


async def test_metrics_are_not_on_the_public_origin(tmp_path: Path) -> None:
    async with portico_with_metrics(tmp_path) as (portico, _url), httpx2.AsyncClient() as http:
        assert (await http.get(f"{portico.base_url}/metrics")).status_code == 404


async def test_sign_ins_and_token_requests_are_counted_from_authorization_events(tmp_path: Path) -> None:
    async with portico_with_metrics(tmp_path) as (portico, url):
        events = portico.runtime.events
        events.auth_event(AuthEvent(at=0, kind="sign_in", details={"provider": "google"}, email="a@example.com"))
        events.auth_event(AuthEvent(at=0, kind="sign_in_refused", outcome="refused", details={"provider": "google"}))
        events.auth_event(AuthEvent(at=0, kind="token_issued", details={"grant_type": "authorization_code"}))
        events.auth_event(AuthEvent(at=0, kind="token_issued", details={"grant_type": "refresh_token"}))
        events.auth_event(
            AuthEvent(at=0, kind="token_request_failed", outcome="refused", details={"grant_type": "made-up"})
        )
        samples = await scrape(url)
    assert value(samples, "portico_sign_ins_total", provider="google", outcome="ok") == 1
    assert value(samples, "portico_sign_ins_total", provider="google", outcome="refused") == 1
    assert value(samples, "portico_token_requests_total", grant_type="authorization_code", outcome="ok") == 1
    assert value(samples, "portico_token_requests_total", grant_type="other", outcome="refused") == 1


async def test_without_metrics_and_audit_nothing_observes_the_data_plane(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}, audit={"enabled": False}) as portico:
        assert not portico.runtime.events.observes_mcp


async def test_a_real_sign_in_and_token_flow_is_counted_end_to_end(tmp_path: Path) -> None:
    login = {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]}
    async with portico_with_metrics(tmp_path, login=login) as (portico, url):
        async with httpx2.AsyncClient(base_url=portico.base_url) as browser:
            client_id, tokens = await sign_in_and_get_tokens(browser, "alice@example.com", portico.url("files"))
            refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
            assert (await browser.post("/token", data=refresh)).status_code == 200
            refused = await browser.post("/token", data={"grant_type": "password", "client_id": client_id})
            assert refused.status_code == 400
        samples = await scrape(url)
    assert value(samples, "portico_sign_ins_total", provider="dev", outcome="ok") == 1
    assert value(samples, "portico_token_requests_total", grant_type="authorization_code", outcome="ok") == 1
    assert value(samples, "portico_token_requests_total", grant_type="refresh_token", outcome="ok") == 1
    assert value(samples, "portico_token_requests_total", grant_type="other", outcome="refused") == 1
    assert "alice" not in str([s.labels for s in samples])
