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
from tests.integration.audit.rows import audit_rows
from tests.integration.proxy.credentials.oauth_harness import connect_in_browser, oauth_setup, sign_in_to_portico
from tests.support.pages import disconnect_server

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def rows_now(runtime: Runtime) -> list[dict[str, object]]:
    assert runtime.audit is not None and await runtime.audit.drain()
    return [row for row in audit_rows(runtime.config.database_url) if str(row["kind"]).startswith("credential_")]


async def test_connect_refresh_failure_and_disconnect_are_audited(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        runtime = setup.portico.runtime
        await sign_in_to_portico(page, setup.portico.base_url, "alice@example.com")
        await connect_in_browser(page, setup.portico.base_url, "alice")
        (subject,) = await setup.subject_of()
        first = await setup.grant(subject)
        assert first is not None and first.expires_at is not None and first.refresh_token is not None
        setup.clock.advance(first.expires_at - setup.clock.now().timestamp() - 30)  # inside the refresh margin
        async with setup.portico.client("up", subject=subject) as client:
            await client.call_tool("auth_header", {})
        second = await setup.grant(subject)
        assert second is not None and second.expires_at is not None and second.refresh_token is not None
        await setup.idp_revoke(second.refresh_token)
        setup.clock.advance(second.expires_at - setup.clock.now().timestamp() + 5)
        async with setup.portico.client("up", subject=subject) as client:
            with pytest.raises(MCPError):
                await client.call_tool("auth_header", {})
        await connect_in_browser(page, setup.portico.base_url, "alice")
        await disconnect_server(page, "Upstream")
        await page.wait_for_url(lambda url: url.endswith("/connections"))
        rows = await rows_now(runtime)
    assert [(row["kind"], row["reason"]) for row in rows] == [
        ("credential_connected", None),
        ("credential_refreshed", None),
        ("credential_refresh_failed", "invalid_grant"),
        ("credential_connected", None),
        ("credential_disconnected", None),
    ]
    assert all(row["subject"] == subject and row["server"] == "up" for row in rows)
    assert rows[0]["email"] == "alice@example.com" and rows[0]["details"] == {"server": "up", "method": "oauth"}
    assert rows[2]["outcome"] == "refused"
    assert rows[2]["details"] == {"server": "up", "method": "oauth", "deleted": "true"}
    dump = json.dumps(rows, default=str)
    for grant in (first, second):
        assert grant.access_token not in dump and str(grant.refresh_token) not in dump
