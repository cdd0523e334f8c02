"""Playwright (async API) on Debian's Chromium: fixtures ``browser`` and ``page``, and ``launch_chromium()``.

Use from an anyio test module (the async API needs the asyncio backend)::

    import pytest
    from playwright.async_api import Page

    from tests.support.browser import browser_fixture, page_fixture  # noqa: F401  (fixtures browser, page)

    pytestmark = [pytest.mark.anyio, pytest.mark.browser]

    @pytest.fixture(scope="module")
    def anyio_backend() -> str:
        return "asyncio"

    async def test_something(page: Page) -> None:
        await page.goto(url)

The fixture ``browser`` is function-scoped so it works whatever the scope of ``anyio_backend``. A module that wants
one Chromium for all its tests (with a module- or session-scoped ``anyio_backend``) can define
``browser_fixture = make_browser_fixture(scope="module")`` instead of importing ``browser_fixture``.

Chromium is never downloaded (no ``playwright install``): a missing ``/usr/bin/chromium`` skips the test, or fails
it under ``PORTICO_REQUIRE_ALL=1``. Playwright gives every launch a fresh temporary profile (user-data dir), and
XDG_CONFIG_HOME/XDG_CACHE_HOME point into a temporary directory, so nothing is written under ``~``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support.requirements import require_chromium

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000


@contextlib.asynccontextmanager
async def launch_chromium(**launch_options: Any) -> AsyncIterator[Browser]:
    """Launch headless Chromium from /usr/bin/chromium (skip/fail via ``require`` when it is missing)."""
    executable = require_chromium()
    with tempfile.TemporaryDirectory(prefix="portico-chromium-") as home:
        env: dict[str, str | float | bool] = {
            **os.environ,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_CACHE_HOME": f"{home}/cache",
        }
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(executable), args=CHROMIUM_ARGS, env=env, **launch_options
            )
            try:
                yield browser
            finally:
                await browser.close()


_Scope = Literal["function", "class", "module", "package", "session"]


def make_browser_fixture(scope: _Scope = "function") -> Callable[..., AsyncIterator[Browser]]:
    """A ``browser`` fixture of the given scope (the scope of ``anyio_backend`` must be at least as wide)."""

    @pytest.fixture(scope=scope, name="browser")
    async def _browser() -> AsyncIterator[Browser]:
        async with launch_chromium() as launched:
            yield launched

    return _browser


browser_fixture = make_browser_fixture()


@pytest.fixture(name="page")
async def page_fixture(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh browser context (its own cookies and storage); 15 s default timeout."""
    context = await browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()
