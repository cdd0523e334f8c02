"""The consent page under an access policy, in Chromium against a real Portico process (docs/policy.md §Consent).

Bob may use ``time`` read-only and not ``docs`` at all: the consent page for ``docs`` offers no approval and
its link returns ``access_denied`` to the client; the one for ``time`` lists what he may use.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from playwright.async_api import Page, expect

from tests.support.oauth import Pkce
from tests.support.pages import sign_in_with_dev_form
from tests.support.portico import run_portico
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

FIXTURE_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "mcp_fixture_server.py"
CONFIG = {
    "login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]},
    "servers": {
        "time": {"title": "Current time", "transport": "stdio", "command": "mcp-server-time"},
        "docs": {
            "title": "Docs",
            "transport": "stdio",
            "command": sys.executable,
            "args": [str(FIXTURE_SERVER), "stdio"],
        },
    },
    "policy": {
        "default": "deny",
        "rules": [
            {"name": "alice-docs", "effect": "allow", "users": ["alice@example.com"], "servers": {"docs": {}}},
            {
                "name": "read-time",
                "effect": "allow",
                "domains": ["example.com"],
                "servers": {"time": {"tools": ["get_*"]}},
            },
        ],
    },
}


def authorize_url(base_url: str, client_id: str, redirect_uri: str, server: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": Pkce().challenge,
        "code_challenge_method": "S256",
        "state": "client-state",
        "scope": "mcp",
        "resource": f"{base_url}/{server}/mcp",
    }
    return f"{base_url}/authorize?{urlencode(params)}"


async def test_bob_is_told_the_policy_forbids_docs_and_sees_his_restriction_on_time(page: Page, tmp_path: Path) -> None:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with run_portico(tmp_path, CONFIG) as portico:
        body = {"client_name": "Claude", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
        client_id = httpx2.post(f"{portico.base_url}/register", json=body).json()["client_id"]

        await page.goto(authorize_url(portico.base_url, client_id, redirect_uri, "docs"))
        await sign_in_with_dev_form(page, "bob@example.com")
        heading = page.get_by_role("heading", level=1)
        await expect(heading).to_have_text("Your organization's policy does not allow Docs")
        assert await page.get_by_role("button", name="Approve").count() == 0
        async with page.expect_request(lambda request: request.url.startswith(redirect_uri)) as returned:
            await page.get_by_role("link", name="Return to Claude").click()
        back = parse_qs(urlsplit((await returned.value).url).query)

        await page.goto(authorize_url(portico.base_url, client_id, redirect_uri, "time"))
        await expect(page.get_by_role("button", name="Approve")).to_be_visible()
        restrictions = await page.locator(".policy-restrictions li").all_inner_texts()

    assert back["error"] == ["access_denied"] and back["state"] == ["client-state"] and "code" not in back
    assert restrictions == ["only tools matching get_*", "no resources", "no prompts"]
