"""A real browser signs in with the ``dev`` provider against ``portico serve`` as a real process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.crypto import generate_secret
from tests.conftest import require_all
from tests.integration.app.test_serve_process import PORTICO, free_port, wait_until_up

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
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

if not CHROMIUM.exists():
    if require_all():
        pytest.fail(f"required component missing: Chromium at {CHROMIUM}", pytrace=False)
    pytest.skip(f"Chromium is not installed at {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``portico serve`` on a free loopback port with the dev provider admitting example.com."""
    directory = tmp_path_factory.mktemp("serve")
    port = free_port()
    config = directory / "portico.yaml"
    config.write_text(
        f"public_url: http://127.0.0.1:{port}\nlisten: {{port: {port}}}\n"
        f"secrets: {{secret_key: '{generate_secret()}'}}\n"
        "login: {providers: [{type: dev}], allowed_domains: [example.com]}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    with (directory / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [str(PORTICO), "serve", "--config", str(config)], cwd=directory, env=env, stdout=log, stderr=log
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=15)


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
