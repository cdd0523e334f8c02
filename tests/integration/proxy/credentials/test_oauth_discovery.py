"""``credentials: {type: oauth, discover: true}``: the upstream is a second Portico — an MCP server
with its own authorization server, DCR and consent page. Portico finds it by RFC 9728 and RFC 8414,
registers by RFC 7591 (stored per authorization server), and sends ``resource`` (RFC 8707)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from app.db import run_db
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.guarded_http import check_url
from proxy.credentials.oauth.client_store import UpstreamOAuthClientRow
from proxy.credentials.vault.store import UpstreamCredentialRow
from tests.integration.proxy.credentials.oauth_harness import LOGIN, serve_portico_with, sign_in_to_portico
from tests.integration.proxy.gateway.harness import FIXTURE_SERVER
from tests.support.pages import connection_status, decide_consent, sign_in_with_dev_form
from tests.support.portico import run_portico
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


@pytest.mark.parametrize("registration", ["dcr", "cimd"])
async def test_portico_registers_itself_at_an_upstream_portico_and_calls_it_with_the_users_grant(
    tmp_path: Path, page: Page, registration: str
) -> None:
    """dcr: RFC 7591, stored per authorization server; cimd: Portico's document URL is its client_id."""
    upstream_port = free_port()
    # "localhost" keeps the two Porticos' cookies apart in the browser (cookies ignore the port).
    upstream_url = f"http://localhost:{upstream_port}"
    fixture = {"transport": "stdio", "command": sys.executable, "args": [str(FIXTURE_SERVER), "stdio"]}
    (tmp_path / "upstream").mkdir()
    # Two servers: an authorization request without ``resource`` would be refused (invalid_target).
    upstream_config = {
        "public_url": upstream_url,
        "login": LOGIN,
        "servers": {"notes": fixture, "other": fixture},
        # The gateway's document is served from a loopback http URL in this test.
        "oauth": {"client_metadata_documents": {"allow_hosts": ["127.0.0.1"]}},
    }
    with run_portico(tmp_path / "upstream", upstream_config, port=upstream_port):
        credentials = {
            "type": "oauth",
            "discover": True,
            "registration": registration,
            "discovery_allow_hosts": ["localhost"],
        }
        server = {"transport": "streamable-http", "title": "Notes", "url": f"{upstream_url}/notes/mcp"}
        (tmp_path / "gateway").mkdir()
        async with serve_portico_with(tmp_path / "gateway", {"up": {**server, "credentials": credentials}}) as (
            portico,
            _clock,
        ):
            base = portico.base_url
            await sign_in_to_portico(page, base, "alice@example.com")
            await page.get_by_role("button", name="Connect Notes").click()
            await page.wait_for_url(lambda url: url.startswith(upstream_url))
            await sign_in_with_dev_form(page, "alice@example.com")
            await page.wait_for_url(lambda url: "/login" not in url)
            consent_text = await page.locator("body").inner_text()
            await decide_consent(page)
            await page.wait_for_url(lambda url: url.startswith(f"{base}/connections?"))
            status = await connection_status(page, "up")
            rows = await run_db(portico.runtime.db, lambda db: list(db.scalars(select(UpstreamOAuthClientRow))))
            query = select(UpstreamCredentialRow.subject).where(UpstreamCredentialRow.server == "up")
            (subject,) = await run_db(portico.runtime.db, lambda db: list(db.scalars(query)))
            async with portico.client("up", subject=subject) as client:
                echoed = (await client.call_tool("echo", {"text": "through two gateways"})).content[0].text  # type: ignore[union-attr]
    assert status == "connected"
    if registration == "dcr":
        assert [(row.issuer, row.redirect_uri) for row in rows] == [(upstream_url, f"{base}/connections/up/callback")]
    else:
        assert rows == []  # nothing to store: the document URL is the client_id
        assert "127.0.0.1" in consent_text  # the upstream names the client by its document's host
    assert echoed == "through two gateways"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://169.254.169.254/latest", "https://10.0.0.1/", "ftp://a/"],
)
async def test_discovery_fetches_refuse_non_public_addresses_and_plain_http(url: str) -> None:
    with pytest.raises(AuthorizationServerUnavailableError):
        await check_url(url, frozenset())


async def test_an_allowed_host_may_be_loopback_and_http() -> None:
    await check_url("http://localhost:9/x", frozenset({"localhost"}))
