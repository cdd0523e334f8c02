"""An upstream receives a signed identity it verifies against Portico's JWKS (issue #22, docs/credentials.md §identity).

A real Portico (uvicorn) in front of the SDK fixture server over Streamable HTTP, driven by the
official MCP SDK client in both eras; the fixture's ``request_header`` tool returns what arrived,
and the test verifies it as an upstream would, with examples/verify_identity.py against Portico's
``/jwks`` fetched over HTTP. SQLite and PostgreSQL (the groups are read from the stored account).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning

from app.db import transaction
from examples.verify_identity import Identity, IdentityError, fetch_jwks, verify_identity
from oauth.housekeeping import reload_signing_keys
from oauth.tokens.access_tokens import issue_access_token
from oauth.tokens.signing_keys import rotate_signing_key
from tests.integration.proxy.gateway.harness import (
    FIXTURES,
    Portico,
    fixture_http_server,
    python_http_server,
    serve_portico,
)
from tests.integration.proxy.gateway.test_sse_upstream import sse_server
from tests.integration.proxy.upstream_process import restartable_upstream
from tests.support.users import add_user

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]
HEADER = "x-portico-identity"


@asynccontextmanager
async def client_of(portico: Portico, subject: str, client_id: str, mode: str) -> AsyncIterator[Client]:
    """The SDK client with an access token of ``client_id`` for ``subject`` (the harness's is always ``c``)."""
    token, _claims = issue_access_token(
        portico.runtime.signing_keys,
        issuer=portico.base_url,
        subject=subject,
        audience=portico.url("tools"),
        client_id=client_id,
        scopes={"mcp"},
        now=portico.runtime.clock.now(),
        lifetime=3600,
    )
    headers = {"authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30.0) as http:
        async with Client(streamable_http_client(portico.url("tools"), http_client=http), mode=mode) as client:
            yield client


async def header(client: Client, name: str = HEADER) -> str:
    result = await client.call_tool("request_header", {"name": name})
    return str(result.content[0].text)  # type: ignore[union-attr]


async def jwks(portico: Portico) -> KeySet:
    return await anyio.to_thread.run_sync(fetch_jwks, f"{portico.base_url}/jwks")


async def verified(portico: Portico, token: str, audience: str) -> Identity:
    return verify_identity(token, await jwks(portico), issuer=portico.base_url, audience=audience)


@asynccontextmanager
async def portico_with_identity(
    tmp_path: Path, database_url: str, identity: dict[str, Any], **server: Any
) -> AsyncIterator[tuple[Portico, str]]:
    with fixture_http_server() as url:
        servers = {"tools": {"transport": "streamable-http", "url": url, "identity": identity, **server}}
        async with serve_portico(tmp_path, servers, database_url=database_url) as portico:
            yield portico, url


@pytest.mark.parametrize("mode", MODES)
async def test_the_upstream_verifies_who_calls_and_never_sees_the_clients_token(
    tmp_path: Path, database_url: str, mode: str
) -> None:
    async with portico_with_identity(tmp_path, database_url, {}) as (portico, url):
        subject = await add_user(portico.runtime, "ada@example.com", ["engineering", "oncall"])
        async with client_of(portico, subject, "ci-agent", mode) as client:
            first, second = await header(client), await header(client)
            authorization = await header(client, "authorization")
        identity = await verified(portico, first, audience=url)
        keys = await jwks(portico)
    assert identity.subject == subject and identity.email == "ada@example.com"
    assert identity.groups == ("engineering", "oncall")  # from the stored account, not the token
    assert identity.client_id == "ci-agent" and identity.actor is None
    assert second == first  # cached: the second call signed nothing
    assert authorization == ""  # the client's access token never reaches the upstream
    assert jwt.decode(first, keys).header["typ"] == "portico-identity+jwt"


async def test_another_client_of_the_same_user_gets_its_own_assertion(tmp_path: Path, database_url: str) -> None:
    async with portico_with_identity(tmp_path, database_url, {}) as (portico, url):
        subject = await add_user(portico.runtime, "ada@example.com", [])
        async with client_of(portico, subject, "desktop", "auto") as desktop:
            seen_desktop = await header(desktop)
        async with client_of(portico, subject, "ci-agent", "auto") as agent:
            seen_agent = await header(agent)
        assert seen_agent != seen_desktop
        assert (await verified(portico, seen_desktop, url)).client_id == "desktop"
        assert (await verified(portico, seen_agent, url)).client_id == "ci-agent"


async def test_a_rotated_signing_key_signs_the_next_assertion(tmp_path: Path, database_url: str) -> None:
    async with portico_with_identity(tmp_path, database_url, {}) as (portico, url):
        subject = await add_user(portico.runtime, "ada@example.com", ["engineering"])
        async with client_of(portico, subject, "c", "auto") as client:
            before = await header(client)
            runtime = portico.runtime
            with transaction(runtime.db) as db:
                kid = rotate_signing_key(db, runtime.sealer, runtime.clock.now(), overlap=timedelta(hours=1))
            reload_signing_keys(runtime)
            after = await header(client)
        assert after != before
        keys = await jwks(portico)  # both keys are published during the overlap
        assert verify_identity(after, keys, issuer=portico.base_url, audience=url).groups == ("engineering",)
        assert verify_identity(before, keys, issuer=portico.base_url, audience=url).subject == subject
        assert jwt.decode(after, keys).header["kid"] == kid


async def test_an_upstream_refuses_an_assertion_meant_for_another_upstream(tmp_path: Path, database_url: str) -> None:
    async with portico_with_identity(tmp_path, database_url, {}) as (portico, url):
        async with portico.client("tools") as client:
            token = await header(client)
        keys = await jwks(portico)
    assert verify_identity(token, keys, issuer=portico.base_url, audience=url).subject == "1"
    with pytest.raises(IdentityError, match="another audience"):
        verify_identity(token, keys, issuer=portico.base_url, audience="http://127.0.0.1:1/other/mcp")


async def test_identity_in_authorization_arrives_as_a_bearer_credential(tmp_path: Path, database_url: str) -> None:
    identity = {"header": "Authorization", "lifetime": 60}
    async with portico_with_identity(tmp_path, database_url, identity, credentials="none") as (portico, url):
        async with portico.client("tools", mode="legacy") as client:
            authorization = await header(client, "authorization")
            own_header = await header(client)
        assert authorization.startswith("Bearer ") and own_header == ""
        identity_seen = await verified(portico, authorization.removeprefix("Bearer "), url)
    assert identity_seen.subject == "1"
    assert identity_seen.expires_at - int(portico.runtime.clock.now().timestamp()) <= 60


async def test_a_modern_client_of_a_handshake_only_upstream_falls_back_and_carries_the_identity(
    tmp_path: Path, database_url: str
) -> None:
    """The per-user bridge connection cannot carry each client's identity: -32008 sends the client to the handshake."""
    with python_http_server(FIXTURES / "handshake_http_server.py") as url:
        servers = {"tools": {"transport": "streamable-http", "url": url, "identity": {}}}
        async with serve_portico(tmp_path, servers, database_url=database_url) as portico:
            async with portico.client("tools", mode="auto") as client:
                token = await header(client)
            identity = await verified(portico, token, url)
    assert identity.subject == "1" and identity.client_id == "c"


async def test_transport_auto_finding_only_legacy_sse_refuses_rather_than_drop_the_identity(
    tmp_path: Path, database_url: str
) -> None:
    with sse_server("path") as (url, _process):
        servers = {"tools": {"transport": "auto", "url": url, "identity": {}}}
        async with serve_portico(tmp_path, servers, database_url=database_url) as portico:
            with pytest.raises(BaseException) as raised:  # noqa: PT011 - the SDK wraps it in task groups
                async with portico.client("tools", mode="legacy") as client:
                    await header(client)
    assert "cannot carry servers.tools.identity" in repr(_leaf(raised.value))


def _leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def test_portico_s_own_requests_after_an_upstream_restart_carry_the_identity(tmp_path: Path) -> None:
    """The re-subscription after a restart is Portico's own POST on the session: it names the user too."""
    with restartable_upstream(tmp_path) as upstream:
        servers = {"up": {"transport": "streamable-http", "url": upstream.url, "identity": {}}}
        async with serve_portico(tmp_path, servers) as portico, portico.client("up", mode="legacy") as client:
            with pytest.warns(MCPDeprecationWarning):  # a 2025-11-25 session may subscribe
                await client.subscribe_resource("restart://status")
            await upstream.wait_for_line("identity subscribe restart://status")
            upstream.restart()
            with anyio.fail_after(30):
                await client.call_tool("echo", {"text": "after"})
            await upstream.wait_for_line("identity subscribe restart://status", count=2)
    starts = [i for i, line in enumerate(upstream.lines()) if line.startswith("start ")]
    carried = [i for i, line in enumerate(upstream.lines()) if line == "identity subscribe restart://status"]
    assert carried[1] > starts[1]  # the restarted process got Portico's re-subscription, with the identity


async def test_a_handshake_client_of_a_modern_only_upstream_carries_the_identity(
    tmp_path: Path, database_url: str
) -> None:
    """The reverse era bridge sends each 2026-07-28 request itself: with the session's user and client."""
    with python_http_server(FIXTURES / "modern_http_server.py") as url:
        servers = {"tools": {"transport": "streamable-http", "url": url, "identity": {}}}
        async with serve_portico(tmp_path, servers, database_url=database_url) as portico:
            subject = await add_user(portico.runtime, "ada@example.com", ["engineering"])
            async with client_of(portico, subject, "legacy-desktop", "legacy") as client:
                first, second = await header(client), await header(client)
            identity = await verified(portico, first, url)
    assert (identity.subject, identity.client_id, identity.groups) == (subject, "legacy-desktop", ("engineering",))
    assert second == first
