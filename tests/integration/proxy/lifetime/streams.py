"""Raw-HTTP MCP clients for the shutdown and stream-lifetime tests: a session, a GET stream, a call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2

VERSION = "2025-06-18"
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "lifetime", "version": "1"}},
}


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {**HEADERS, "authorization": f"Bearer {token}", **extra}


async def open_session(http: httpx2.AsyncClient, path: str, token: str) -> dict[str, str]:
    """Initialize a handshake-era session; the headers every later request of it carries."""
    response = await http.post(path, json=INITIALIZE, headers=bearer(token))
    assert response.status_code == 200, response.text
    headers = bearer(token, **{"mcp-session-id": response.headers["mcp-session-id"], "mcp-protocol-version": VERSION})
    initialized = await http.post(path, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert initialized.status_code == 202, initialized.text
    return headers


@dataclass
class Stream:
    """One event stream read to its end: when it opened and ended, and how (None: a clean end)."""

    opened: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)
    status: int | None = None
    ended_at: float | None = None
    error: BaseException | None = None
    text: str = ""
    _changed: anyio.Event = field(default_factory=anyio.Event)

    async def until(self, predicate: Callable[[str], bool]) -> None:
        """Wait until the text read so far satisfies ``predicate``."""
        while not predicate(self.text):
            assert not self.done.is_set(), f"the stream ended first: {self.text!r}"
            await self._changed.wait()

    async def read(self, http: httpx2.AsyncClient, path: str, headers: dict[str, str]) -> None:
        try:
            async with http.stream("GET", path, headers=headers) as response:
                self.status = response.status_code
                self.opened.set()
                async for chunk in response.aiter_text():
                    self.text += chunk
                    self._changed.set()
                    self._changed = anyio.Event()
        except httpx2.HTTPError as error:
            self.error = error
        finally:
            self.ended_at = time.monotonic()
            self.opened.set()
            self.done.set()
            self._changed.set()


async def call(http: httpx2.AsyncClient, path: str, headers: dict[str, str], request: dict[str, Any]) -> dict[str, Any]:
    """POST one request; its JSON-RPC response, from a JSON body or the last message of an SSE body."""
    response = await http.post(path, json=request, headers=headers)
    if response.headers.get("content-type", "").startswith("application/json"):
        answer: dict[str, Any] = response.json()
        return answer
    messages = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
    finals = [m for m in messages if m.get("id") == request["id"]]
    assert finals, response.text
    final: dict[str, Any] = finals[-1]
    return final


def sleep_call(request_id: int, seconds: float, marker: str) -> dict[str, Any]:
    arguments = {"seconds": seconds, "marker": marker}
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "sleep", "arguments": arguments},
    }
