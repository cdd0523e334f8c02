"""Readiness: one real ``tools/call`` through a started peer, in the form the wrk client will send.

A peer is ready for a client revision when the echo comes back through it. 2025-11-25 opens the
session the timed runs share (initialize + initialized; peers that run stateless hand out no
``Mcp-Session-Id`` and get none back). Connection errors and 5xx are retried until the deadline
(a peer may open its port before its upstream side is up); any other wrong answer is final and
becomes the "not run" reason.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2

from bench.peers.install import PeerUnavailableError

LEGACY_REV = "2025-11-25"
MODERN_REV = "2026-07-28"
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
META = {"io.modelcontextprotocol/protocolVersion": MODERN_REV, "io.modelcontextprotocol/clientCapabilities": {}}


class _RetryableError(Exception):
    pass


def decode(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message in a JSON or SSE answer (the last ``data:`` line of an event stream)."""
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = data[-1] if data else ""
    try:
        message: dict[str, Any] = json.loads(text)
    except ValueError as exc:
        raise PeerUnavailableError(f"HTTP {response.status_code}, not JSON-RPC: {text[:160]!r}") from exc
    return message


def _post(http: httpx2.Client, url: str, headers: dict[str, str], body: dict[str, Any]) -> httpx2.Response:
    try:
        response = http.post(url, json=body, headers=headers)
    except httpx2.TransportError as exc:
        raise _RetryableError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500:
        raise _RetryableError(f"HTTP {response.status_code}: {response.text[:160]}")
    return response


def _check_echo(response: httpx2.Response, text: str) -> None:
    message = decode(response)
    result = message.get("result")
    if response.status_code != 200 or not isinstance(result, dict) or result.get("isError"):
        raise PeerUnavailableError(f"HTTP {response.status_code}: {json.dumps(message)[:200]}")
    content = result.get("content") or [{}]
    if content[0].get("text") != text:
        raise PeerUnavailableError(f"the echo did not come back: {json.dumps(result)[:200]}")


def _call_once(http: httpx2.Client, url: str, revision: str, auth: dict[str, str], tool: str) -> str:
    call = {"name": tool, "arguments": {"text": "bench-probe"}}
    if revision == MODERN_REV:
        headers = {**ACCEPT, **auth, "mcp-protocol-version": MODERN_REV, "mcp-method": "tools/call", "mcp-name": tool}
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {**call, "_meta": META}}
        _check_echo(_post(http, url, headers, body), "bench-probe")
        return ""
    headers = {**ACCEPT, **auth, "mcp-protocol-version": LEGACY_REV}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY_REV, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
    }
    response = _post(http, url, headers, init)
    message = decode(response)
    if response.status_code != 200 or "result" not in message:
        raise PeerUnavailableError(f"initialize: HTTP {response.status_code}: {json.dumps(message)[:200]}")
    session = response.headers.get("mcp-session-id", "")
    if session:
        headers["mcp-session-id"] = session
    notified = _post(http, url, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    if notified.status_code not in (200, 202):
        raise PeerUnavailableError(f"notifications/initialized: HTTP {notified.status_code}: {notified.text[:200]}")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}
    _check_echo(_post(http, url, headers, body), "bench-probe")
    return session


def ready(url: str, revision: str, token: str = "", tool: str = "echo", deadline_s: float = 60.0) -> str:
    """Wait until a ``tools/call`` of ``tool`` echoes through ``url``; the session id ("" if none).

    Raises PeerUnavailableError with the reason when the peer answers wrongly or not within ``deadline_s``.
    """
    auth = {"authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + deadline_s
    with httpx2.Client(timeout=30) as http:
        while True:
            try:
                return _call_once(http, url, revision, auth, tool)
            except _RetryableError as exc:
                if time.monotonic() > deadline:
                    raise PeerUnavailableError(f"not ready within {deadline_s:g} s: {exc}") from exc
                time.sleep(0.2)
