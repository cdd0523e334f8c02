"""ContextForge #1078 regression for OAuth grants: each call carries its own user's access token,
under concurrency and after every cache entry is evicted (our design; docs/credentials.md)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from proxy.credentials.oauth.grant import OAuthGrant
from proxy.credentials.oauth.user_grants import OAuthGrants
from tests.integration.proxy.gateway.harness import Portico, fixture_http_server, serve_portico

pytestmark = pytest.mark.anyio
OAUTH = {
    "type": "oauth",
    "client_id": "portico",
    "client_secret": "unused-secret",
    "authorization_endpoint": "https://as.example.com/authorize",
    "token_endpoint": "https://as.example.com/token",
}


async def seen(portico: Portico, subject: str) -> str:
    async with portico.client("up", subject=subject) as client:
        result = await client.call_tool("auth_header", {})
    return str(result.content[0].text)  # type: ignore[union-attr]


async def test_concurrent_calls_of_two_users_carry_their_own_access_tokens(tmp_path: Path) -> None:
    with fixture_http_server() as url:
        servers = {"up": {"transport": "streamable-http", "url": url, "credentials": OAUTH}}
        async with serve_portico(tmp_path, servers) as portico:
            grants: OAuthGrants = portico.gateway.credentials.source.oauth_grants  # type: ignore[attr-defined]
            far = int(portico.runtime.clock.now().timestamp()) + 3600
            for subject in ("1", "2"):
                await grants.store(subject, "up", OAuthGrant(f"at-user-{subject}", None, far, "read"))
            for _round in range(2):
                results: list[tuple[str, str]] = []

                async def call(subject: str, results: list[tuple[str, str]] = results) -> None:
                    results.append((subject, await seen(portico, subject)))

                with anyio.fail_after(60):
                    async with anyio.create_task_group() as group:
                        for index in range(12):
                            group.start_soon(call, "1" if index % 2 else "2")
                assert len(results) == 12
                assert all(value == f"Bearer at-user-{subject}" for subject, value in results)
                portico.gateway.credentials.forget("1")
                portico.gateway.credentials.forget("2")
