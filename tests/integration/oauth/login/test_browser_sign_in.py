"""A real browser signs in with the ``dev`` provider against ``portico serve`` as a real process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import CHROMIUM_ARGS
from tests.support.portico import run_portico
from tests.support.requirements import chromium_path, require_all

pytestmark = pytest.mark.browser

CHROMIUM = chromium_path()
if CHROMIUM is None:
    if require_all():
        pytest.fail("required component missing: Chromium at /usr/bin/chromium", pytrace=False)
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``portico serve`` on a free loopback port with the dev provider admitting example.com."""
    config = {"login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}}
    with run_portico(tmp_path_factory.mktemp("serve"), config) as portico:
        yield portico.base_url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    home = tmp_path_factory.mktemp("chromium-home")
    env: dict[str, str | float | bool] = {**os.environ, "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def sign_in_with_form(page: Page, base_url: str, email: str, return_to: str) -> None:
    page.goto(f"{base_url}/login?return_to={return_to}")
    assert page.url.startswith(f"{base_url}/login/dev?")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_browser_signs_in_and_lands_on_return_to_signed_in(page: Page, base_url: str) -> None:
    sign_in_with_form(page, base_url, "Alice@Example.com", "/logout")
    assert page.url == f"{base_url}/logout"
    assert page.locator(".signed-in-email").inner_text() == "alice@example.com"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "portico_login"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Signed out").is_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "portico_login"]
    page.goto(f"{base_url}/logout")
    assert page.get_by_text("You are not signed in").is_visible()


def test_a_browser_outside_the_allowed_domains_sees_which_rule_refused(page: Page, base_url: str) -> None:
    sign_in_with_form(page, base_url, "mallory@other.com", "/logout")
    assert page.get_by_role("heading", name="Access denied").is_visible()
    assert "domain other.com is not in login.allowed_domains" in page.get_by_role("alert").inner_text()
    assert not [c for c in page.context.cookies() if c["name"] == "portico_login"]
