"""Page objects for Portico's own pages (dev sign-in form, consent page), Playwright async API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from playwright.async_api import Page

SignIn = Callable[[Page, str], Awaitable[None]]
"""Completes whatever sign-in page the browser is on as the given user (an email or an IdP login name)."""


async def sign_in_with_dev_form(page: Page, email: str) -> None:
    """On ``/login/dev``: type the email and submit."""
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Sign in").click()


async def decide_consent(page: Page, decision: str = "Approve") -> None:
    """On the consent page: press Approve (or Deny)."""
    await page.get_by_role("button", name=decision).click()


async def authorize_in_browser(
    page: Page, authorization_url: str, email: str, sign_in: SignIn = sign_in_with_dev_form
) -> None:
    """Open an authorization URL, sign in (the dev form by default, or ``sign_in``, e.g. at an IdP) and approve.

    Returns once the approve button was pressed; where the browser then lands (the client's
    ``redirect_uri``) is for the caller to observe.
    """
    portico = _origin(authorization_url)
    await page.goto(authorization_url)
    await sign_in(page, email)
    await page.wait_for_url(lambda url: _origin(url) == portico and "/login" not in url)
    await decide_consent(page)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def connect_token(page: Page, server_title: str, token: str) -> None:
    """On ``/connections``: paste ``token`` for the server and press Connect (or Replace)."""
    await page.get_by_label(f"Token for {server_title}").fill(token)
    await (
        page.locator("form[action='/connections/connect']", has=page.get_by_label(f"Token for {server_title}"))
        .get_by_role("button")
        .click()
    )


async def disconnect_server(page: Page, server_title: str) -> None:
    """On ``/connections``: press Disconnect for the server."""
    await page.get_by_role("button", name=f"Disconnect {server_title}").click()


async def connection_status(page: Page, server: str) -> str:
    """On ``/connections``: the server's status (``connected``, ``missing`` or ``not_needed``)."""
    return await page.locator(f"section[data-server='{server}']").get_attribute("data-status") or ""
