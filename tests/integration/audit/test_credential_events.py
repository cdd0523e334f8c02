"""Upstream credential events in the audit trail: connected (OAuth, in Chromium against a real
authorization server), refreshed ahead of expiry, refresh failed (``invalid_grant``), disconnected;
no access or refresh token in any row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page

from app.runtime import Runtime
from proxy.credentials.oauth.grant import OAuthGrant
from tests.integration.audit.rows import audit_rows
from tests.integration.proxy.credentials.oauth_harness import (
    OAuthSetup,
    connect_in_browser,
    oauth_setup,
    sign_in_to_portico,
)
from tests.support.pages import disconnect_server

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def rows_now(runtime: Runtime) -> list[dict[str, object]]:
    assert runtime.audit is not None and await runtime.audit.drain()
    return [row for row in audit_rows(runtime.config.database_url) if str(row["kind"]).startswith("credential_")]


async def connected(setup: OAuthSetup, page: Page) -> tuple[str, OAuthGrant]:
    await sign_in_to_portico(page, setup.portico.base_url, "alice@example.com")
    await connect_in_browser(page, setup.portico.base_url, "alice")
    (subject,) = await setup.subject_of()
    grant = await setup.grant(subject)
    assert grant is not None and grant.expires_at is not None and grant.refresh_token is not None
    return subject, grant


def assert_no_token_of(grants: list[OAuthGrant], rows: list[dict[str, object]]) -> None:
    dump = json.dumps(rows, default=str)
    for grant in grants:
        assert grant.access_token not in dump and str(grant.refresh_token) not in dump


async def test_connect_refresh_and_disconnect_are_audited(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        subject, first = await connected(setup, page)
        assert first.expires_at is not None
        setup.clock.advance(first.expires_at - setup.clock.now().timestamp() - 30)  # inside the refresh margin
        async with setup.portico.client("up", subject=subject) as client:
            await client.call_tool("auth_header", {})
        second = await setup.grant(subject)
        await page.goto(f"{setup.portico.base_url}/connections")  # a fresh form: the clock moved past its CSRF
        await disconnect_server(page, "Upstream")
        await page.wait_for_url(lambda url: url.endswith("/connections"))
        rows = await rows_now(setup.portico.runtime)
    assert [row["kind"] for row in rows] == ["credential_connected", "credential_refreshed", "credential_disconnected"]
    assert all(row["subject"] == subject and row["server"] == "up" and row["outcome"] == "ok" for row in rows)
    assert rows[0]["email"] == "alice@example.com" and rows[0]["details"] == {"server": "up", "method": "oauth"}
    assert second is not None and second.access_token != first.access_token
    assert_no_token_of([first, second], rows)


async def test_a_refused_refresh_is_audited_as_failed(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        subject, grant = await connected(setup, page)
        assert grant.expires_at is not None and grant.refresh_token is not None
        await setup.idp_revoke(grant.refresh_token)
        setup.clock.advance(grant.expires_at - setup.clock.now().timestamp() + 5)
        async with setup.portico.client("up", subject=subject) as client:
            with pytest.raises(MCPError):
                await client.call_tool("auth_header", {})
        rows = await rows_now(setup.portico.runtime)
    connected_row, failed = rows
    assert connected_row["kind"] == "credential_connected"
    assert (failed["kind"], failed["outcome"], failed["reason"], failed["subject"]) == (
        "credential_refresh_failed",
        "refused",
        "invalid_grant",
        subject,
    )
    assert failed["details"] == {"server": "up", "method": "oauth", "deleted": "true"}
    assert_no_token_of([grant], rows)
