"""A database outage on the policy's cold path is answered like a cold credential read's (ADR 0006,
ADR 0016): a token Portico has not decided for yet gets 503 + ``Retry-After`` with -32603
``database_unavailable``; a token already decided keeps working, filtered, without the database.

Portico as a real process on PostgreSQL behind a TCP proxy that then refuses connections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integration.proxy.gateway.harness import modern_body, modern_headers, sse_messages
from tests.support.databases import isolated_postgres_database
from tests.support.deployment import fixture_server_over_http
from tests.support.portico import mint_access_token, run_portico
from tests.support.tcp_proxy import proxied_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
DATABASE = {
    "connect_timeout_seconds": 1,
    "statement_timeout_seconds": 2,
    "lock_timeout_seconds": 1,
    "pool_timeout_seconds": 2,
    "call_timeout_seconds": 2.0,
    "retry_after_seconds": 5,
}
POLICY = {
    "default": "deny",
    "rules": [{"everyone": True, "effect": "allow", "servers": {"notes": {"tools": ["echo"]}}}],
}


async def list_tools(http: httpx2.AsyncClient, url: str, token: str) -> httpx2.Response:
    headers = {**modern_headers("tools/list"), "authorization": f"Bearer {token}"}
    return await http.post(url, json=modern_body("tools/list", request_id=7), headers=headers)


async def test_a_cold_decision_during_an_outage_is_a_503_and_a_warm_one_goes_on(tmp_path: Path) -> None:
    with (
        isolated_postgres_database() as database_url,
        proxied_database(database_url) as (proxy, proxied_url),
        fixture_server_over_http() as notes,
    ):
        config: dict[str, Any] = {
            "database": DATABASE,
            "servers": {"notes": {"transport": "streamable-http", "url": notes}},
            "policy": POLICY,
        }
        with run_portico(tmp_path, config, database_url=proxied_url) as portico:
            url = f"{portico.base_url}/notes/mcp"
            warm = mint_access_token(tmp_path, url, subject="warm-user")
            cold = mint_access_token(tmp_path, url, subject="cold-user")
            async with httpx2.AsyncClient(timeout=30) as http:
                first = await list_tools(http, url, warm)
                proxy.refuse()
                refused = await list_tools(http, url, cold)
                still = await list_tools(http, url, warm)
                proxy.restore()

    assert [tool["name"] for tool in _result(first)["tools"]] == ["echo"]
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "5"
    assert (refused.json()["id"], refused.json()["error"]["data"]["reason"]) == (7, "database_unavailable")
    assert [tool["name"] for tool in _result(still)["tools"]] == ["echo"]


def _result(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        return dict(sse_messages(response.text)[-1]["result"])
    return dict(response.json()["result"])
