"""Connecting an ``oauth`` server: what goes wrong ends on a clear page with nothing stored (our design;
RFC 6749 §4.1.2.1 errors, §10.12 state), and the stored grant is bound to its owner (AAD)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page
from sqlalchemy.orm import Session

from app.db import run_db
from proxy.credentials.oauth.grant import OAUTH
from proxy.credentials.vault import load_secret
from proxy.credentials.vault.store import find_credential, put_credential
from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.credentials.oauth_harness import connect_in_browser, oauth_setup, sign_in_to_portico
from tests.support.pages import connection_status

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_access_denied_at_the_upstream_shows_the_error_and_stores_nothing(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        base = setup.portico.base_url
        await sign_in_to_portico(page, base, "alice@example.com")
        async with page.expect_response(lambda r: r.url.startswith(f"{base}/connections/up/callback")) as answer:
            await page.get_by_role("button", name="Connect Upstream").click()
            await page.get_by_role("link", name="[ Cancel ]").click()
        status = (await answer.value).status
        text = await page.get_by_role("alert").inner_text()
        stored = await setup.subject_of()
    assert status == 400
    assert "access_denied" in text and "Nothing was stored" in text
    assert stored == []


async def test_a_replayed_or_forged_callback_is_refused(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        base = setup.portico.base_url
        await sign_in_to_portico(page, base, "alice@example.com")
        callback = await connect_in_browser(page, base, "alice")
        (subject,) = await setup.subject_of()
        first = await setup.grant(subject)
        replayed = await page.goto(callback)
        replay_text = await page.get_by_role("alert").inner_text()
        forged = await page.goto(f"{base}/connections/up/callback?code=x&state=forged")
        after = await setup.grant(subject)
    assert replayed is not None and replayed.status == 400
    assert "already completed" in replay_text
    assert forged is not None and forged.status == 400
    assert after == first


async def test_starting_a_connection_needs_the_pages_csrf_token(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        base = setup.portico.base_url
        await sign_in_to_portico(page, base, "alice@example.com")
        forged = await page.request.post(
            f"{base}/connections/oauth/start", form={"server": "up", "csrf": "1700000000.forged"}, max_redirects=0
        )
        missing = await page.request.post(f"{base}/connections/oauth/start", form={"server": "up"}, max_redirects=0)
        await page.goto(f"{base}/connections")
        status = await connection_status(page, "up")
    assert (forged.status, missing.status) == (403, 403)
    assert status == "missing"


async def test_a_grant_copied_to_another_user_does_not_decrypt_and_is_not_used(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        base = setup.portico.base_url
        await sign_in_to_portico(page, base, "alice@example.com")
        await connect_in_browser(page, base, "alice")
        (alice,) = await setup.subject_of()
        runtime = setup.portico.runtime
        now = runtime.clock.now()

        def copy_to_mallory(db: Session) -> None:
            row = find_credential(db, subject=alice, server="up")
            assert row is not None
            put_credential(
                db, subject="mallory", server="up", kind=OAUTH, ciphertext=row.ciphertext, now=now, expires_at=None
            )

        await run_db(runtime.db, copy_to_mallory)
        decrypted = await run_db(
            runtime.db,
            lambda db: load_secret(db, runtime.sealer, subject="mallory", server="up", kind=OAUTH, now=now),
        )
        async with setup.portico.client("up", subject="mallory") as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool("auth_header", {})
    assert decrypted is None
    assert raised.value.code == CREDENTIAL_REQUIRED
