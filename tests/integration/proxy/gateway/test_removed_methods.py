"""2026-07-28 requests Portico answers itself when bridging (issue #14, finding 7).

Real peers: a real Portico in front of a handshake-only stdio upstream (``legacy_stdio_server.py``,
which answers ``ping``, ``logging/setLevel`` and resource subscriptions like any 2025 server) and of
the SDK fixture server over stdio; raw 2026-07-28 requests over HTTP.

The spec (2026-07-28 removed ``initialize``, ``ping``, ``logging/setLevel``, ``resources/subscribe``,
``resources/unsubscribe``; conformance scenario sep-2575) requires 404 with -32601 for them, whatever
the server behind the gateway; before the fix the handshake upstream answered them (200).
``inputResponses`` must be an object of result objects (``InputResponseRequestParams``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from proxy.inbound.modern_era import REMOVED_METHODS
from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_stdio_server,
    legacy_stdio_server,
    modern_body,
    modern_headers,
    serve_portico,
)

pytestmark = pytest.mark.anyio
REMOVED_PARAMS: dict[str, dict[str, Any]] = {
    "ping": {},
    "logging/setLevel": {"level": "debug"},
    "resources/subscribe": {"uri": "fixture://greeting"},
    "resources/unsubscribe": {"uri": "fixture://greeting"},
}


@pytest.fixture
async def portico(tmp_path: Path) -> AsyncIterator[Portico]:
    servers = {"old": legacy_stdio_server(), "fixture": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers) as running:
        yield running


async def post(portico: Portico, server: str, method: str, params: dict[str, Any]) -> httpx2.Response:
    name = params.get("name")
    headers = {**modern_headers(method, name), "authorization": f"Bearer {portico.token(server)}"}
    async with httpx2.AsyncClient(timeout=30.0) as http:
        return await http.post(portico.url(server), json=modern_body(method, params, 41), headers=headers)


def test_the_removed_set_is_the_sdks_2025_methods_missing_from_2026() -> None:
    assert REMOVED_METHODS == {"initialize", *REMOVED_PARAMS}


@pytest.mark.parametrize("method", sorted(REMOVED_PARAMS))
async def test_a_method_2026_removed_is_not_found_even_when_the_upstream_speaks_the_handshake(
    portico: Portico, method: str
) -> None:
    """Finding 7: 404 + -32601 carrying the request's id, never the upstream's 200."""
    response = await post(portico, "old", method, REMOVED_PARAMS[method])
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["id"] == 41
    assert body["error"]["code"] == -32601


async def test_a_bridged_request_still_reaches_the_handshake_upstream(portico: Portico) -> None:
    """The guard: methods 2026-07-28 kept are still bridged (tools/list answers 200)."""
    response = await post(portico, "old", "tools/list", {})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("input_responses", [5, None, "text", [], {"elicitation": 3}, {"elicitation": None}], ids=repr)
async def test_malformed_input_responses_are_invalid_params(portico: Portico, input_responses: object) -> None:
    """Finding 7: ``inputResponses`` must be an object of objects; -32602 (400) before anything goes upstream.

    Before the fix the bridge (handshake upstream ``old``) dropped the malformed value and ran the call.
    """
    params = {"name": "echo", "arguments": {"text": "hi"}, "inputResponses": input_responses}
    response = await post(portico, "old", "tools/call", params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == -32602
    assert "inputResponses" in error["message"]


async def test_a_non_string_request_state_is_invalid_params(portico: Portico) -> None:
    params = {"name": "echo", "arguments": {"text": "hi"}, "inputResponses": {}, "requestState": 7}
    response = await post(portico, "old", "tools/call", params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32602
    assert "requestState" in response.json()["error"]["message"]


async def test_well_formed_input_responses_pass_the_check(portico: Portico) -> None:
    params = {"name": "echo", "arguments": {"text": "hi"}, "inputResponses": {"x": {"action": "decline"}}}
    response = await post(portico, "fixture", "tools/call", params)
    assert response.status_code == 200, response.text
