"""Every way a request to ``/<name>/mcp`` can be wrong, and what Portico answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integration.proxy.gateway.harness import (
    LEGACY_HEADERS,
    Portico,
    fixture_stdio_server,
    legacy_stdio_server,
    modern_body,
    modern_headers,
    open_raw_session,
    serve_portico,
    sse_messages,
)

pytestmark = pytest.mark.anyio
SERVERS = {
    "fixture": fixture_stdio_server(),
    "legacy": legacy_stdio_server(),
    "other": fixture_stdio_server(),
    "old-sse": {"transport": "sse", "url": "http://127.0.0.1:9/sse"},
}


@pytest.fixture
async def portico(tmp_path: Path) -> AsyncIterator[Portico]:
    async with serve_portico(
        tmp_path, SERVERS, limits={"max_body_bytes": 4096}, allowed_origins=["https://app.example.com"]
    ) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=30) as client:
        yield client


def bearer(portico: Portico, server: str = "fixture", subject: str = "1") -> dict[str, str]:
    return {"authorization": f"Bearer {portico.token(server, subject)}"}


async def post_modern(
    http: httpx2.AsyncClient, portico: Portico, body: Any, headers: dict[str, str], server: str = "fixture"
) -> httpx2.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await http.post(portico.url(server), content=content, headers={**headers, **bearer(portico, server)})


def error_of(response: httpx2.Response) -> tuple[int, object, int]:
    body = response.json()
    return response.status_code, body["id"], body["error"]["code"]


# --- routing and authentication ----------------------------------------------------------------


def without_name(response: httpx2.Response, name: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (but ``date``) and body, with the server name and the request ID in them replaced."""
    request_id = response.headers["x-request-id"]
    headers = {
        k: v.replace(f"/{name}/", "/<name>/") for k, v in response.headers.items() if k not in ("date", "x-request-id")
    }
    return response.status_code, headers, response.content.replace(request_id.encode(), b"<request-id>")


ROUTES = [("POST", "mcp"), ("GET", "mcp"), ("GET", "sse"), ("POST", "sse/messages")]


@pytest.mark.parametrize(("method", "kind"), ROUTES)
@pytest.mark.parametrize("token", [None, "fixture"], ids=["no-token", "another-servers-token"])
async def test_an_unknown_server_is_answered_like_a_known_one_until_authenticated(
    portico: Portico, http: httpx2.AsyncClient, method: str, kind: str, token: str | None
) -> None:
    """Our choice (issue #15 finding 9): a caller without a valid token cannot tell which servers exist.

    ``other`` is configured, ``nopex`` is not (same length, so even Content-Length matches).
    """
    headers = {**LEGACY_HEADERS, **(bearer(portico, token) if token else {})}
    content = json.dumps(modern_body("tools/list")).encode() if method == "POST" else None
    known, unknown = [
        await http.request(method, f"{portico.base_url}/{name}/{kind}", headers=headers, content=content)
        for name in ("other", "nopex")
    ]
    assert known.status_code == 401
    assert without_name(known, "other") == without_name(unknown, "nopex")


async def test_request_without_a_token_gets_the_rfc9728_challenge(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Spec-mandated (MCP authorization §Authorization Server Location): 401 + resource_metadata."""
    for method in ("POST", "GET", "DELETE"):
        response = await http.request(method, portico.url("fixture"), headers=LEGACY_HEADERS)
        assert response.status_code == 401
        metadata = f"{portico.base_url}/.well-known/oauth-protected-resource/fixture/mcp"
        assert response.headers["www-authenticate"] == f'Bearer resource_metadata="{metadata}", scope="mcp"'


async def test_a_token_for_one_server_is_refused_at_another(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Spec-mandated (RFC 8707; MCP authorization §Token Handling): tokens are audience-bound."""
    headers = {**modern_headers("tools/list"), "authorization": f"Bearer {portico.token('fixture')}"}
    response = await http.post(portico.url("other"), json=modern_body("tools/list"), headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://evil.example.com", 403), ("https://app.example.com", 202), ("http://127.0.0.1:1", 403)],
)
async def test_origin_is_validated_when_present(
    portico: Portico, http: httpx2.AsyncClient, origin: str, status: int
) -> None:
    """Spec-mandated (2025-11-25 transports §Security Warning): an Origin not allowed gets 403."""
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = {**modern_headers("notifications/initialized"), "origin": origin}
    response = await post_modern(http, portico, note, headers)
    assert response.status_code == status


async def test_portico_own_origin_is_allowed(portico: Portico, http: httpx2.AsyncClient) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    response = await post_modern(http, portico, note, {**modern_headers("x"), "origin": portico.base_url})
    assert response.status_code == 202


# --- both eras ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "2026-07-28"])
async def test_malformed_json_is_a_parse_error(portico: Portico, http: httpx2.AsyncClient, version: str | None) -> None:
    """Spec-mandated (JSON-RPC 2.0 §5.1): -32700 with id null; the SDK's status 400."""
    headers = {**LEGACY_HEADERS, **({"mcp-protocol-version": version} if version else {})}
    response = await post_modern(http, portico, b'{"jsonrpc": "2.0", "id": 1,', headers)
    assert error_of(response) == (400, None, -32700)


AMBIGUOUS_BODIES = {
    "duplicate method": b'{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{}}',
    "duplicate id": b'{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list","params":{}}',
    "duplicate argument": (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","text":"b"}}}'
    ),
    "invalid UTF-8": b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"\xff"}}',
    "lone surrogate": b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"\xed\xa0\x80"}}',
    "UTF-16": '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'.encode("utf-16"),
}


@pytest.mark.parametrize("body", AMBIGUOUS_BODIES.values(), ids=AMBIGUOUS_BODIES.keys())
@pytest.mark.parametrize("version", [None, "2026-07-28"])
async def test_a_body_two_parsers_could_read_differently_is_a_parse_error(
    portico: Portico, http: httpx2.AsyncClient, version: str | None, body: bytes
) -> None:
    """Our choice (issue #15 finding 9; I-JSON, RFC 7493 §2.1, §2.3): Portico reads the decoded
    message but relays the raw bytes, so duplicate member names and non-UTF-8 bytes are refused
    as -32700 with the SDK's status 400 rather than resolved last-wins."""
    headers = {**LEGACY_HEADERS, **({"mcp-protocol-version": version} if version else {})}
    response = await post_modern(http, portico, body, headers)
    assert error_of(response) == (400, None, -32700)


async def test_an_oversized_body_is_413(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Our choice (limits.max_body_bytes), before anything is parsed."""
    body = modern_body("tools/call", {"name": "echo", "arguments": {"text": "x" * 5000}})
    response = await post_modern(http, portico, body, modern_headers("tools/call", "echo"))
    assert response.status_code == 413


@pytest.mark.parametrize("version", ["2099-01-01", "draft"])
async def test_an_unsupported_protocol_version_is_400_naming_the_supported_ones(
    portico: Portico, http: httpx2.AsyncClient, version: str
) -> None:
    """Spec-mandated (transports §Protocol Version Header; SEP-2575): 400; -32022 answers the request's id and
    lists the versions ``server/discover`` names."""
    headers = {**LEGACY_HEADERS, "mcp-protocol-version": version}
    response = await post_modern(http, portico, modern_body("tools/list"), headers)
    assert error_of(response)[::2] == (400, -32022)
    assert response.json()["id"] == modern_body("tools/list")["id"]
    supported = {"supported": ["2026-07-28"], "requested": version, "request_id": response.headers["x-request-id"]}
    assert response.json()["error"]["data"] == supported


async def test_an_unsupported_protocol_version_with_a_body_that_is_not_json_still_gets_32022(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    """The version is judged first; an unreadable body only means the error cannot carry an id."""
    headers = {**LEGACY_HEADERS, "mcp-protocol-version": "2099-01-01"}
    response = await post_modern(http, portico, b"{not json", headers)
    assert error_of(response)[::2] == (400, -32022)
    assert response.json()["id"] is None


@pytest.mark.parametrize("version", [None, "2026-07-28"])
async def test_a_client_that_does_not_accept_both_content_types_gets_406(
    portico: Portico, http: httpx2.AsyncClient, version: str | None
) -> None:
    headers = {"accept": "application/json", "content-type": "application/json"}
    if version:
        headers["mcp-protocol-version"] = version
    response = await post_modern(http, portico, modern_body("tools/list"), headers)
    assert response.status_code == 406


async def test_a_non_json_content_type_is_415(portico: Portico, http: httpx2.AsyncClient) -> None:
    headers = {**modern_headers("tools/list"), "content-type": "text/plain"}
    response = await post_modern(http, portico, modern_body("tools/list"), headers)
    assert response.status_code == 415


async def test_an_unreachable_sse_upstream_gets_a_clear_error(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Our choice: a legacy SSE upstream that cannot be reached answers -32003 with 502, never a hang."""
    response = await post_modern(http, portico, modern_body("tools/list"), modern_headers("tools/list"), "old-sse")
    assert error_of(response) == (502, 1, -32003)


# --- handshake era ----------------------------------------------------------------------------------


async def test_a_request_without_a_session_is_400_and_an_unknown_session_404(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    """Spec (2025-11-25 transports §Session Management): SHOULD 400 without, MUST 404 for unknown."""
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    missing = await http.post(portico.url("fixture"), json=ping, headers=portico.headers("fixture"))
    unknown = await http.post(
        portico.url("fixture"), json=ping, headers=portico.headers("fixture", **{"mcp-session-id": "nope"})
    )
    get = await http.get(portico.url("fixture"), headers=portico.headers("fixture"))
    assert error_of(missing) == (400, None, -32600)
    assert error_of(unknown) == (404, None, -32600)
    assert get.status_code == 400


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
async def test_a_batch_is_refused_where_the_revision_forbids_it(
    portico: Portico, http: httpx2.AsyncClient, version: str
) -> None:
    """Spec-mandated: JSON-RPC batching was removed in 2025-06-18 → -32600."""
    mcp_session_id = await open_raw_session(http, portico, "fixture")
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
    headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id, "mcp-protocol-version": version})
    response = await http.post(portico.url("fixture"), json=batch, headers=headers)
    assert error_of(response) == (400, None, -32600)


async def test_a_2025_03_26_batch_is_served(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Spec (2025-03-26 transports §Sending Messages): a batch of requests is answered on one stream."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}},
    }
    opened = await http.post(portico.url("legacy"), json=initialize, headers=portico.headers("legacy"))
    session = {"mcp-session-id": opened.headers["mcp-session-id"]}
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "vendor/a"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "vendor/b"},
    ]
    response = await http.post(portico.url("legacy"), json=batch, headers=portico.headers("legacy", **session))
    answers = {m["id"]: m["result"]["method"] for m in sse_messages(response.text)}
    assert opened.json()["result"]["protocolVersion"] == "2025-03-26"
    assert answers == {1: "vendor/a", 2: "vendor/b"}


async def test_notifications_and_responses_alone_are_accepted_with_202(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    """Spec-mandated (transports §Sending Messages): 202 Accepted, no body."""
    mcp_session_id = await open_raw_session(http, portico, "fixture")
    note = {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}
    headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id})
    response = await http.post(portico.url("fixture"), json=note, headers=headers)
    assert (response.status_code, response.content) == (202, b"")


async def test_other_http_methods_are_405_with_allow(portico: Portico, http: httpx2.AsyncClient) -> None:
    response = await http.put(portico.url("fixture"), headers=portico.headers("fixture"))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, DELETE"


async def test_a_second_get_stream_on_one_session_is_409(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Spec (transports §Multiple Connections): one message is never on two streams; SDK answers 409."""
    mcp_session_id = await open_raw_session(http, portico, "fixture")
    headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id})
    async with http.stream("GET", portico.url("fixture"), headers=headers) as first:
        assert first.status_code == 200
        second = await http.get(portico.url("fixture"), headers=headers)
    assert second.status_code == 409


async def test_unknown_methods_and_fields_pass_through_untouched(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Our choice (transparency): extensions, tasks and future fields reach the upstream and back unchanged."""
    mcp_session_id = await open_raw_session(http, portico, "legacy")
    params = {"task": {"ttl": 5}, "_meta": {"progressToken": "p", "vendor/x": [1]}, "deep": {"a": None}}
    call = {"jsonrpc": "2.0", "id": "req-1", "method": "vendor/notify-first", "params": params, "x-top": 1}
    headers = portico.headers("legacy", **{"mcp-session-id": mcp_session_id})
    response = await http.post(portico.url("legacy"), json=call, headers=headers)
    messages = sse_messages(response.text)
    assert messages[0] == {"jsonrpc": "2.0", "method": "vendor/heads-up", "params": {"x-extra": [1, 2]}, "x-top": True}
    assert messages[-1]["id"] == "req-1"
    assert messages[-1]["result"]["method"] == "vendor/notify-first"
    seen = messages[-1]["result"]["params"]
    assert isinstance(seen["_meta"].pop("progressToken"), int)  # remapped so sessions never collide
    assert seen == {**params, "_meta": {"vendor/x": [1]}}


# --- 2026-07-28 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_modern_get_and_delete_are_405(portico: Portico, http: httpx2.AsyncClient, method: str) -> None:
    """Spec-mandated (2026-07-28 streamable-http): POST only."""
    headers = {**modern_headers("tools/list"), **bearer(portico)}
    response = await http.request(method, portico.url("fixture"), headers=headers)
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (modern_headers("tools/call", "echo"), modern_body("tools/list"), (400, 1, -32020)),
        (modern_headers("tools/call", "other"), modern_body("tools/call", {"name": "echo"}), (400, 1, -32020)),
        (
            {**modern_headers("tools/list"), "mcp-protocol-version": "2026-07-28"},
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            (400, 1, -32602),
        ),
        (modern_headers("nope/nothing"), modern_body("nope/nothing"), (404, 1, -32601)),
        (modern_headers("tools/list"), [modern_body("tools/list")], (400, None, -32600)),
        (modern_headers("tools/list"), {"jsonrpc": "2.0", "id": 1, "result": {}}, (400, None, -32600)),
    ],
    ids=["method-mismatch", "name-mismatch", "no-envelope", "unknown-method", "batch", "response"],
)
async def test_modern_requests_are_validated_with_the_spec_status_table(
    portico: Portico, http: httpx2.AsyncClient, headers: dict[str, str], body: Any, expected: tuple[int, Any, int]
) -> None:
    """Spec-mandated (2026-07-28 streamable-http §Server Validation): -32602/-32020/-32600 → 400, -32601 → 404."""
    response = await post_modern(http, portico, body, headers)
    assert error_of(response) == expected


async def test_a_routing_header_sent_twice_is_a_header_mismatch(portico: Portico, http: httpx2.AsyncClient) -> None:
    headers = [*modern_headers("tools/list").items(), ("mcp-method", "tools/list"), *bearer(portico).items()]
    response = await http.post(portico.url("fixture"), json=modern_body("tools/list"), headers=headers)
    assert error_of(response) == (400, 1, -32020)


async def test_mcp_param_headers_must_mirror_the_arguments(portico: Portico, http: httpx2.AsyncClient) -> None:
    """Spec-mandated (SEP-2243): Portico checks Mcp-Param-* for stdio servers, which never see headers."""
    body = modern_body("tools/call", {"name": "regional", "arguments": {"region": "eu", "text": "hi"}})
    good = await post_modern(
        http, portico, body, {**modern_headers("tools/call", "regional"), "mcp-param-region": "eu"}
    )
    bad = await post_modern(http, portico, body, {**modern_headers("tools/call", "regional"), "mcp-param-region": "us"})
    missing = await post_modern(http, portico, body, modern_headers("tools/call", "regional"))
    assert good.status_code == 200 and good.json()["result"]["content"][0]["text"] == "eu:hi"
    assert error_of(bad) == (400, 1, -32020)
    assert error_of(missing) == (400, 1, -32020)


async def test_a_modern_discover_to_a_handshake_only_upstream_is_answered_by_the_bridge(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    """Era bridging (docs/protocol-bridging.md): discover is synthesized from the upstream's InitializeResult."""
    response = await post_modern(
        http, portico, modern_body("server/discover"), modern_headers("server/discover"), "legacy"
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["supportedVersions"], result["resultType"]) == (["2026-07-28"], "complete")
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "legacy"


async def test_modern_notifications_are_accepted_with_202(portico: Portico, http: httpx2.AsyncClient) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    response = await post_modern(http, portico, note, modern_headers("notifications/cancelled"))
    assert (response.status_code, response.content) == (202, b"")


@pytest.mark.parametrize("suffix", ["/", "/extra"])
async def test_paths_below_the_endpoint_are_404_not_redirects(
    portico: Portico, http: httpx2.AsyncClient, suffix: str
) -> None:
    """Our choice (reference §1.3): the route is an exact resource URI; a redirected POST loses its body."""
    headers = {**modern_headers("tools/list"), **bearer(portico)}
    response = await http.post(portico.url("fixture") + suffix, json=modern_body("tools/list"), headers=headers)
    assert error_of(response) == (404, None, -32600)
