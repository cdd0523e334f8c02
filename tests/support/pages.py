"""Page objects for Portico's own pages (dev sign-in form, consent page), Playwright async API."""

from __future__ import annotations

from playwright.async_api import Page


async def sign_in_with_dev_form(page: Page, email: str) -> None:
    """On ``/login/dev``: type the email and submit."""
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Sign in").click()


async def decide_consent(page: Page, decision: str = "Approve") -> None:
    """On the consent page: press Approve (or Deny)."""
    await page.get_by_role("button", name=decision).click()


async def authorize_in_browser(page: Page, authorization_url: str, email: str) -> None:
    """Open an authorization URL, sign in with the dev form and approve the consent page.

    Returns once the approve button was pressed; where the browser then lands (the client's
    ``redirect_uri``) is for the caller to observe.
    """
    await page.goto(authorization_url)
    await sign_in_with_dev_form(page, email)
    await page.wait_for_url(lambda url: "/login" not in url)
    await decide_consent(page)
