"""Limited requests are counted and audited (issue #21): ``portico_rate_limited_total{limit, scope}`` on
``/metrics`` for MCP and endpoint refusals, and the MCP request's audit row says which limit refused it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from proxy.limits.errors import RATE_LIMITED
from tests.integration.audit.rows import audit_rows
from tests.integration.observe.test_metrics_endpoint import scrape, value
from tests.integration.proxy.gateway.harness import fixture_stdio_server, free_port, serve_portico
from tests.integration.proxy.policy.paths import connect
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

RULES = {
    "rules": [
        {"name": "echoes", "key": "user+tool", "servers": ["files"], "tools": ["echo"], "rate": "1/hour"},
        {"name": "token-tight", "key": "client_address", "endpoints": ["/token"], "rate": "1/hour"},
    ]
}


async def test_limited_requests_are_counted_and_audited_with_the_limit_name(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    async with serve_portico(
        tmp_path,
        {"files": fixture_stdio_server()},
        limits=RULES,
        clock=FakeClock(datetime.now(UTC)),
        metrics={"listen": f"127.0.0.1:{port}"},
        database_url=database_url,
        audit={"flush_interval": 0.05},
    ) as portico:
        before = await scrape(f"http://127.0.0.1:{port}/metrics")
        for kind in ("handshake", "legacy_sse"):
            async with connect(portico, "files", kind, subject=f"user-{kind}") as client:
                await client.call_tool("echo", {"text": "x"})
                with pytest.raises(MCPError) as refused:
                    await client.call_tool("echo", {"text": "x"})
                assert refused.value.code == RATE_LIMITED
        async with httpx2.AsyncClient() as http:
            for _ in range(2):
                await http.post(f"{portico.base_url}/token", data={})
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")

    def delta(**labels: str) -> float:
        return value(samples, "portico_rate_limited_total", **labels) - value(
            before, "portico_rate_limited_total", **labels
        )

    assert delta(limit="echoes", scope="mcp") == 2
    assert delta(limit="token-tight", scope="endpoint") == 1
    rows = [row for row in audit_rows(database_url, server="files") if row["method"] == "tools/call"]
    limited = [row for row in rows if row["outcome"] == "error"]
    assert len(rows) == 4 and len(limited) == 2
    for row in limited:
        assert (row["error_code"], row["reason"], row["details"]) == (RATE_LIMITED, "rate_limited", {"limit": "echoes"})
    assert {row["http_status"] for row in limited} == {429, 202}  # JSON answer; legacy SSE: on the stream
