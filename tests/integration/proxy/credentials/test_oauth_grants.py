"""``credentials: oauth``: connecting through a real authorization server (oidc-provider) in Chromium,
the access token sent upstream, refresh ahead of expiry (one at a time), ``invalid_grant``, and
revocation on disconnect (our design; docs/credentials.md, RFC 6749 §4.1/§6, RFC 7009)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page
from sqlalchemy import event

from app.db import run_db
from proxy.credentials.explain import explain_credentials
from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.credentials.oauth_harness import (
    OAuthSetup,
    connect_in_browser,
    oauth_setup,
    sign_in_to_portico,
)
from tests.support.pages import connection_status, disconnect_server

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def seen_authorization(setup: OAuthSetup, subject: str) -> str:
    async with setup.portico.client("up", subject=subject) as client:
        result = await client.call_tool("auth_header", {})
    return str(result.content[0].text)  # type: ignore[union-attr]


async def connected_alice(setup: OAuthSetup, page: Page) -> str:
    await sign_in_to_portico(page, setup.portico.base_url, "alice@example.com")
    await connect_in_browser(page, setup.portico.base_url, "alice")
    (subject,) = await setup.subject_of()
    return subject


async def test_a_connected_user_calls_with_their_access_token_and_others_get_the_connect_url(
    tmp_path: Path, page: Page
) -> None:
    async with oauth_setup(tmp_path) as setup:
        await sign_in_to_portico(page, setup.portico.base_url, "alice@example.com")
        before = await connection_status(page, "up")
        await connect_in_browser(page, setup.portico.base_url, "alice")
        after = await connection_status(page, "up")
        (subject,) = await setup.subject_of()
        grant = await setup.grant(subject)
        seen = await seen_authorization(setup, subject)
        runtime = setup.portico.runtime
        explained = await run_db(
            runtime.db,
            lambda db: explain_credentials(
                db, runtime.config, runtime.sealer, subject=subject, email="a", server="up", now=runtime.clock.now()
            ),
        )
        async with setup.portico.client("up", subject="someone-else") as client:
            tools = await client.list_tools()
            with pytest.raises(MCPError) as raised:
                await client.call_tool("auth_header", {})
        html = await page.content()
    assert (before, after) == ("missing", "connected")
    assert grant is not None and grant.refresh_token is not None and grant.expires_at is not None
    assert seen == f"Bearer {grant.access_token}"
    assert "auth_header" in {tool.name for tool in tools.tools}
    assert raised.value.code == CREDENTIAL_REQUIRED
    assert raised.value.error.data["connect_url"] == f"{setup.portico.base_url}/connections?server=up"
    assert grant.access_token not in html and grant.refresh_token not in html
    assert "header Authorization: the access token of the user's OAuth grant" in "\n".join(explained)
    assert "refreshable" in explained[-1] and grant.access_token not in "\n".join(explained)


async def test_a_token_near_expiry_is_refreshed_once_for_concurrent_callers(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        subject = await connected_alice(setup, page)
        old = await setup.grant(subject)
        assert old is not None and old.expires_at is not None
        assert await seen_authorization(setup, subject) == f"Bearer {old.access_token}"
        # 30 s before expiry: inside the 60 s refresh margin.
        setup.clock.advance(old.expires_at - setup.clock.now().timestamp() - 30)
        seen: list[str] = []

        async def call() -> None:
            seen.append(await seen_authorization(setup, subject))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(call)
        new = await setup.grant(subject)
        old_refresh_at_idp = await setup.idp_refresh(old.refresh_token or "")
    assert new is not None and new.access_token != old.access_token
    assert seen == [f"Bearer {new.access_token}"] * 8
    # oidc-provider rotates refresh tokens: a second refresh with the old one would have failed
    # (and revoked the grant); the stored one is the rotated token and the old one is spent.
    assert new.refresh_token != old.refresh_token
    assert old_refresh_at_idp.status_code == 400


async def test_invalid_grant_on_refresh_deletes_the_grant_and_asks_to_reconnect(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        subject = await connected_alice(setup, page)
        grant = await setup.grant(subject)
        assert grant is not None and grant.expires_at is not None and grant.refresh_token is not None
        await setup.idp_revoke(grant.refresh_token)
        setup.clock.advance(grant.expires_at - setup.clock.now().timestamp() + 5)
        async with setup.portico.client("up", subject=subject) as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool("auth_header", {})
        remaining = await setup.subject_of()
        await page.goto(f"{setup.portico.base_url}/connections")
        status = await connection_status(page, "up")
    assert raised.value.code == CREDENTIAL_REQUIRED
    assert remaining == []
    assert status == "missing"


async def test_disconnect_revokes_the_grant_at_the_upstream_and_deletes_it(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        subject = await connected_alice(setup, page)
        grant = await setup.grant(subject)
        assert grant is not None and grant.refresh_token is not None
        await disconnect_server(page, "Upstream")
        await page.wait_for_url(lambda url: url.endswith("/connections"))
        status = await connection_status(page, "up")
        refresh_after = await setup.idp_refresh(grant.refresh_token)
        remaining = await setup.subject_of()
    assert status == "missing"
    assert remaining == []
    assert refresh_after.status_code == 400
    assert refresh_after.json()["error"] == "invalid_grant"


async def test_a_stdio_server_gets_the_token_in_its_environment_and_restarts_after_a_refresh(
    tmp_path: Path, page: Page
) -> None:
    async with oauth_setup(tmp_path, stdio=True) as setup:
        subject = await connected_alice(setup, page)
        old = await setup.grant(subject)
        assert old is not None and old.expires_at is not None
        async with setup.portico.client("up", subject=subject) as client:
            before = (await client.call_tool("env_value", {"name": "UP_TOKEN"})).content[0].text  # type: ignore[union-attr]
            setup.clock.advance(old.expires_at - setup.clock.now().timestamp() - 30)
            after = (await client.call_tool("env_value", {"name": "UP_TOKEN"})).content[0].text  # type: ignore[union-attr]
        new = await setup.grant(subject)
    assert before == old.access_token
    assert new is not None and after == new.access_token != old.access_token


async def test_a_warm_call_with_a_fresh_token_touches_no_database_and_one_due_for_refresh_does(
    tmp_path: Path, page: Page
) -> None:
    """Our choice (hot path): the cached header is reused until the token enters its refresh margin."""
    statements: list[str] = []

    def record(*args: object) -> None:
        if "audit_events" not in str(args[2]):  # the audit trail's batched writer, not the call (ADR 0018)
            statements.append(str(args[2]))

    async with oauth_setup(tmp_path) as setup:
        subject = await connected_alice(setup, page)
        grant = await setup.grant(subject)
        assert grant is not None and grant.expires_at is not None
        engine = setup.portico.runtime.engine
        async with setup.portico.client("up", subject=subject) as client:
            await client.call_tool("auth_header", {})
            event.listen(engine, "before_cursor_execute", record)
            try:
                await client.call_tool("auth_header", {})
                warm = list(statements)
                setup.clock.advance(grant.expires_at - setup.clock.now().timestamp() - 30)
                refreshed = (await client.call_tool("auth_header", {})).content[0].text  # type: ignore[union-attr]
            finally:
                event.remove(engine, "before_cursor_execute", record)
    assert warm == []
    assert statements != []
    assert refreshed != f"Bearer {grant.access_token}"
