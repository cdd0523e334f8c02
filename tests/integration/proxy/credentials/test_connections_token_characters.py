"""Tokens that cannot be delivered upstream (issue #15 finding 5): refused on the page, and a stored one is not a 500.

A real Portico (uvicorn) with the SDK fixture server over Streamable HTTP behind it, taking each
user's token with no ``pattern`` in the ``Authorization`` header; the dev sign-in and the
/connections page in Chromium; the official MCP SDK client.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page
from sqlalchemy import select

from app.db import run_db, transaction
from oauth.login.api import accounts_by_email
from proxy.credentials.vault import USER_TOKEN, store_secret
from proxy.credentials.vault.store import UpstreamCredentialRow
from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.gateway.harness import Portico, fixture_http_server, serve_portico
from tests.support.pages import connect_token, connection_status, sign_in_with_dev_form

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
NO_PATTERN = {"type": "user_token", "format": "Bearer {token}"}


@asynccontextmanager
async def portico_without_pattern(tmp_path: Path) -> AsyncIterator[Portico]:
    with fixture_http_server() as url:
        servers = {"notes": {"transport": "streamable-http", "title": "Notes", "url": url, "credentials": NO_PATTERN}}
        async with serve_portico(tmp_path, servers, login=LOGIN) as portico:
            yield portico


async def signed_in_connections_page(page: Page, portico: Portico) -> None:
    await page.goto(f"{portico.base_url}/connections?server=notes")
    await sign_in_with_dev_form(page, "alice@example.com")
    await page.wait_for_url(lambda url: "/connections" in url)


def stored_rows(portico: Portico) -> int:
    with transaction(portico.runtime.db) as db:
        return len(db.scalars(select(UpstreamCredentialRow)).all())


async def test_a_token_with_an_escape_character_is_refused_on_the_page_with_a_clear_message(
    page: Page, tmp_path: Path
) -> None:
    """Our choice (RFC 9110 §5.5 field values carry no controls): nothing is stored."""
    async with portico_without_pattern(tmp_path) as portico:
        await signed_in_connections_page(page, portico)
        await connect_token(page, "Notes", "abc\x1b[2Jdef")
        alert = await page.get_by_role("alert").inner_text()
        status = await connection_status(page, "notes")
        rows = stored_rows(portico)
    assert "cannot be used: it contains control characters" in alert
    assert (status, rows) == ("missing", 0)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("abc\x00def", "control characters"),
        ("abc\x7fdef", "control characters"),
        ("abc\x9b2Jdef", "control characters"),  # C1 CSI
        ("tökén", "visible ASCII"),  # not an RFC 9110 field value in a header
    ],
)
async def test_undeliverable_tokens_posted_to_the_form_are_refused(
    page: Page, tmp_path: Path, token: str, reason: str
) -> None:
    """Our choice: the form refuses what the browser's input field might not even let through."""
    async with portico_without_pattern(tmp_path) as portico:
        await signed_in_connections_page(page, portico)
        csrf = await page.locator("form[action='/connections/connect'] input[name='csrf']").get_attribute("value")
        response = await page.request.post(
            f"{portico.base_url}/connections/connect",
            form={"server": "notes", "token": token, "csrf": csrf or ""},
            max_redirects=0,
        )
        body = await response.text()
        rows = stored_rows(portico)
    assert response.status == 400
    assert reason in body and token not in body
    assert rows == 0


async def test_a_stored_token_with_control_characters_gives_the_connect_error_not_a_500(
    page: Page, tmp_path: Path
) -> None:
    """Our choice: a token stored before the check counts as unusable: -32011 with the connect URL, page says so."""
    async with portico_without_pattern(tmp_path) as portico:
        await signed_in_connections_page(page, portico)
        with transaction(portico.runtime.db) as db:
            [alice] = accounts_by_email(db, "alice@example.com")
        subject, now = alice.subject, portico.runtime.clock.now()
        await run_db(
            portico.runtime.db,
            lambda db: store_secret(
                db,
                portico.runtime.sealer,
                subject=subject,
                server="notes",
                kind=USER_TOKEN,
                secret="a\x00b\r\nc",
                now=now,
            ),
        )
        await portico.gateway.credential_changed(subject, "notes")
        async with portico.client("notes", subject=subject) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            with pytest.raises(MCPError) as refused:
                await client.call_tool("auth_header")
        await page.reload()
        status = await connection_status(page, "notes")
        label = await page.locator("section[data-server='notes'] .status").inner_text()
    assert "auth_header" in listed
    assert refused.value.code == CREDENTIAL_REQUIRED
    assert refused.value.error.data["connect_url"] == f"{portico.base_url}/connections?server=notes"
    assert status == "unusable" and re.search("connect again", label)
