"""The sign-in page over its rate limit, in Chromium: a readable "Too many requests" page (HTTP 429,
``Retry-After``) instead of the sign-in page, on a running Portico (issue #21: pages show a friendly message)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.integration.proxy.gateway.harness import serve_portico
from tests.support.browser import browser_fixture, page_fixture  # noqa: F401  (fixtures browser, page)

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
RULE = {"name": "sign-in-tight", "key": "client_address", "endpoints": ["sign-in"], "rate": "1/hour"}


async def test_a_limited_sign_in_shows_a_friendly_page(tmp_path: Path, page: Page) -> None:
    async with serve_portico(tmp_path, {}, limits={"rules": [RULE]}) as portico:
        first = await page.goto(f"{portico.base_url}/login?return_to=/")
        assert first is not None and first.status != 429
        limited = await page.goto(f"{portico.base_url}/login?return_to=/")
        assert limited is not None
        assert limited.status == 429 and limited.headers["retry-after"] == "3600"
        assert await page.locator("h1").inner_text() == "Too many requests"
        alert = await page.get_by_role("alert").inner_text()
    assert alert == "Too many requests from your network. Please wait 3600 seconds, then try again."
