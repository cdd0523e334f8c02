"""Every relayed response carries each header once (issue #14, finding 8).

Real peers: a real Portico relaying a scriptable Streamable HTTP upstream (``fake_upstream.py``);
raw response header lines are read with ``httpx2``'s ``Headers.get_list`` (one entry per line on
the wire). Before the fix Portico wrote its own ``Content-Type`` and relayed the upstream's too —
on a relayed 500 they conflicted (``application/json`` and ``text/plain``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integration.proxy.gateway.fake_upstream import serve_fake_upstream
from tests.integration.proxy.gateway.harness import Portico, initialize_body, serve_portico

pytestmark = pytest.mark.anyio
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer", "transfer-encoding"}


def repeated(response: httpx2.Response) -> dict[str, int]:
    names = Counter(name.decode("latin-1").lower() for name, _ in response.headers.raw)
    return {name: count for name, count in names.items() if count > 1}


async def call(http: httpx2.AsyncClient, portico: Portico, session: str, tool: str) -> httpx2.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool}}
    return await http.post(portico.url("up"), json=body, headers=portico.headers("up", **{"mcp-session-id": session}))


async def test_relayed_json_and_a_relayed_500_each_carry_one_content_type(tmp_path: Path) -> None:
    """Finding 8: exactly one ``Content-Type`` (the upstream's media type), no duplicate header at all."""
    async with serve_fake_upstream() as fake:
        servers = {"up": {"transport": "streamable-http", "url": fake.url}}
        async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient(timeout=30) as http:
            initialized = await http.post(portico.url("up"), json=initialize_body(), headers=portico.headers("up"))
            session = initialized.headers["mcp-session-id"]
            result = await call(http, portico, session, "hop")
            failed = await call(http, portico, session, "fail")
    assert initialized.status_code == 200
    assert initialized.headers.get_list("content-type") == ["application/json"]
    assert result.status_code == 200
    assert result.headers.get_list("content-type") == ["application/json"]
    assert failed.status_code == 500
    assert failed.headers.get_list("content-type") == ["text/plain"]
    assert failed.text == "upstream exploded"
    for response in (initialized, result, failed):
        assert repeated(response) == {}
        assert not HOP_BY_HOP & {name.decode("latin-1").lower() for name, _ in response.headers.raw}
    assert result.headers.get_list("cache-control") == ["private"]
