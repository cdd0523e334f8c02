"""A client cannot reach a denied tool through any path (issue #16): a direct call, a bridged call, a
2025-03-26 batch, legacy HTTP+SSE, and a forged ``Mcp-Name`` — raw HTTP, so nothing client-side helps.

The upstream (the SDK fixture server) appends to a file whenever ``delete_repo`` runs: after every
attempt the file must not exist; the same call by an ``admins`` member creates it (the record works).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from proxy.wire.errors import POLICY_DENIED
from proxy.wire.jsonrpc import HEADER_MISMATCH, INVALID_REQUEST
from tests.integration.proxy.gateway.harness import (
    LEGACY_HEADERS,
    Portico,
    initialize_body,
    modern_body,
    modern_headers,
    serve_portico,
    sse_messages,
)
from tests.integration.proxy.policy.paths import POLICY, upstream_servers
from tests.support.users import add_user

pytestmark = pytest.mark.anyio


def call(marker: Path, request_id: int = 1, name: str = "delete_repo") -> dict[str, Any]:
    params = {"name": name, "arguments": {"marker": str(marker), "text": "x"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def answers(response: httpx2.Response) -> Any:
    if response.headers["content-type"].startswith("text/event-stream"):
        return sse_messages(response.text)[-1]
    return response.json()


async def handshake_session(http: httpx2.AsyncClient, portico: Portico, server: str, version: str) -> dict[str, str]:
    """A raw handshake-era session at ``version``; returns the headers every later POST carries."""
    opened = await http.post(portico.url(server), json=initialize_body(version), headers=portico.headers(server))
    assert opened.status_code == 200, opened.text
    headers = portico.headers(
        server, **{"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": version}
    )
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(portico.url(server), json=initialized, headers=headers)).status_code == 202
    return headers


async def modern_call(
    http: httpx2.AsyncClient, portico: Portico, server: str, header_name: str, body_name: str, marker: Path
) -> httpx2.Response:
    params = call(marker, name=body_name)["params"]
    headers = {**modern_headers("tools/call", header_name), "authorization": f"Bearer {portico.token(server)}"}
    return await http.post(portico.url(server), json=modern_body("tools/call", params), headers=headers)


async def test_a_denied_tool_is_unreachable_directly_bridged_batched_over_sse_and_with_a_forged_mcp_name(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "delete_repo.calls"
    with upstream_servers() as servers:
        async with serve_portico(tmp_path, servers, policy=POLICY) as portico, httpx2.AsyncClient(timeout=30) as http:
            for server in ("stdio", "http"):  # direct, handshake era
                headers = await handshake_session(http, portico, server, "2025-11-25")
                refused = await http.post(portico.url(server), json=call(marker), headers=headers)
                assert (refused.status_code, answers(refused)["error"]["code"]) == (200, POLICY_DENIED)
            for server in ("sse", "stdio", "http"):  # 2026-07-28: bridged to the legacy SSE upstream, direct otherwise
                refused = await modern_call(http, portico, server, "delete_repo", "delete_repo", marker)
                assert (refused.status_code, refused.json()["error"]["code"]) == (200, POLICY_DENIED)
            refused = await _handshake_call_to_modern_only(http, portico, marker)  # bridged the other way
            assert answers(refused)["error"]["code"] == POLICY_DENIED
            await _batch_is_refused_whole(http, portico, marker)
            await _legacy_sse_call_is_refused(http, portico, marker)
            await _forged_mcp_name_is_refused(http, portico, marker)
            assert not marker.exists(), "a denied call reached an upstream"

            admin = await add_user(portico.runtime, "root@example.com", ["admins"])
            allowed = await http.post(
                portico.url("stdio"),
                json=modern_body("tools/call", call(marker)["params"]),
                headers={
                    **modern_headers("tools/call", "delete_repo"),
                    "authorization": f"Bearer {portico.token('stdio', admin)}",
                },
            )
            assert "result" in answers(allowed), allowed.text
    assert marker.read_text() == "delete_repo\n"


async def _handshake_call_to_modern_only(http: httpx2.AsyncClient, portico: Portico, marker: Path) -> httpx2.Response:
    headers = await handshake_session(http, portico, "modern-only", "2025-11-25")
    return await http.post(portico.url("modern-only"), json=call(marker), headers=headers)


async def _batch_is_refused_whole(http: httpx2.AsyncClient, portico: Portico, marker: Path) -> None:
    """Our choice (docs/endpoints.md): nothing of a batch holding a denied request is forwarded."""
    for server in ("stdio", "http"):
        headers = await handshake_session(http, portico, server, "2025-03-26")
        batch = [call(marker, 1, "echo"), call(marker, 2), {"jsonrpc": "2.0", "method": "notifications/progress"}]
        refused = await http.post(portico.url(server), json=batch, headers=headers)
        assert refused.status_code == 200, refused.text
        codes = [(item["id"], item["error"]["code"]) for item in refused.json()]
        assert codes == [(1, INVALID_REQUEST), (2, POLICY_DENIED)]
        if server != "stdio":
            continue  # the SDK's HTTP server refuses batches itself: only a message upstream answers one
        allowed = await http.post(
            portico.url(server),
            json=[call(marker, 3, "echo"), {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}],
            headers=headers,
        )
        by_id = {item.get("id"): item for item in _all_messages(allowed)}
        assert by_id[3]["result"]["content"][0]["text"] == "x"
        assert [tool["name"] for tool in by_id[4]["result"]["tools"]] == ["echo"]


def _all_messages(response: httpx2.Response) -> list[dict[str, Any]]:
    if response.headers["content-type"].startswith("text/event-stream"):
        return sse_messages(response.text)
    decoded = response.json()
    return decoded if isinstance(decoded, list) else [decoded]


async def _legacy_sse_call_is_refused(http: httpx2.AsyncClient, portico: Portico, marker: Path) -> None:
    token = portico.token("http", audience=portico.sse_url("http"))
    auth = {"authorization": f"Bearer {token}"}
    async with http.stream("GET", portico.sse_url("http"), headers={**auth, "accept": "text/event-stream"}) as stream:
        lines = stream.aiter_lines()
        endpoint = await _next_data(lines)
        post_url = f"{portico.base_url}{endpoint}"
        headers = {**LEGACY_HEADERS, **auth}
        assert (await http.post(post_url, json=initialize_body("2024-11-05"), headers=headers)).status_code == 202
        assert "result" in json.loads(await _next_data(lines))
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await http.post(post_url, json=initialized, headers=headers)).status_code == 202
        assert (await http.post(post_url, json=call(marker, 9), headers=headers)).status_code == 202
        answer = json.loads(await _next_data(lines))
        assert (answer["id"], answer["error"]["code"]) == (9, POLICY_DENIED)


async def _next_data(lines: Any) -> str:
    with anyio.fail_after(20):
        async for line in lines:
            if line.startswith("data:"):
                return str(line[5:].strip())
    raise AssertionError("the stream ended")


async def _forged_mcp_name_is_refused(http: httpx2.AsyncClient, portico: Portico, marker: Path) -> None:
    """2026-07-28 streamable-http.mdx §Server Validation: ``Mcp-Name`` must equal the body's name (-32020, 400)."""
    for header_name, body_name in (("echo", "delete_repo"), ("delete_repo", "echo")):
        for server in ("stdio", "http", "sse"):
            refused = await modern_call(http, portico, server, header_name, body_name, marker)
            assert (refused.status_code, refused.json()["error"]["code"]) == (400, HEADER_MISMATCH), refused.text
