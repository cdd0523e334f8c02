"""The test components themselves work for real: Chromium, Node 22, the OpenID provider, PostgreSQL, processes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import psycopg
import pytest
from playwright.async_api import Page

from tests.support.browser import make_browser_fixture, page_fixture  # noqa: F401  (fixture page)
from tests.support.idp import Idp, IdpClient, sign_in_at_idp, start_idp
from tests.support.processes import ProcessStartError, free_port, port_answers, start_process
from tests.support.requirements import (
    require,
    require_node22,
    require_node_package,
    require_postgres,
)

pytestmark = pytest.mark.anyio

CLIENT_ID = "portico-test"
CLIENT_SECRET = "portico-test-secret"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


# One Chromium for the whole module (possible because anyio_backend above is module-scoped).
browser_fixture = make_browser_fixture(scope="module")


class _SiteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        body = b"<!doctype html><title>portico</title><h1 id='greeting'>Hello from a local server</h1>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def local_site() -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 answering every GET with the same page; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SiteHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def idp(local_site: str) -> Iterator[Idp]:
    with start_idp(clients=[IdpClient(CLIENT_ID, CLIENT_SECRET, [f"{local_site}/callback"])]) as running:
        yield running


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


@pytest.mark.browser
async def test_chromium_renders_a_page_served_by_a_local_server(page: Page, local_site: str) -> None:
    await page.goto(f"{local_site}/hello")

    assert await page.locator("#greeting").text_content() == "Hello from a local server"
    assert await page.title() == "portico"


@pytest.mark.node
async def test_idp_serves_its_discovery_document_with_the_configured_issuer(idp: Idp) -> None:
    async with httpx2.AsyncClient() as client:
        response = await client.get(idp.discovery_url)

    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == idp.issuer
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "email", "profile", "groups"} <= set(document["scopes_supported"])
    assert {"email", "email_verified", "hd", "groups"} <= set(document["claims_supported"])


@pytest.mark.browser
@pytest.mark.node
@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("alice", {"email": "alice@example.com", "email_verified": True, "hd": "example.com", "groups": []}),
        ("unverified-bob", {"email": "unverified-bob@example.com", "email_verified": False, "hd": "example.com"}),
        (
            "eng-carol@corp.example",
            {"email": "eng-carol@corp.example", "hd": "corp.example", "groups": ["engineering"]},
        ),
        ("dave@gmail.com", {"email": "dave@gmail.com", "email_verified": True, "hd": None}),
    ],
)
async def test_login_through_the_idp_pages_in_chromium_ends_at_the_redirect_uri_with_a_code(
    page: Page,
    idp: Idp,
    local_site: str,
    login: str,
    expected: dict[str, Any],
) -> None:
    redirect_uri = f"{local_site}/callback"
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(16)
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid email profile groups",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    await page.goto(f"{idp.issuer}/auth?{urlencode(query)}")

    async with page.expect_request(lambda request: request.url.startswith(redirect_uri)) as request_info:
        await sign_in_at_idp(page, login)
    callback = parse_qs(urlsplit((await request_info.value).url).query)

    assert callback["state"] == [state]
    assert callback["iss"] == [idp.issuer]
    async with httpx2.AsyncClient() as client:
        token_endpoint = (await client.get(idp.discovery_url)).json()["token_endpoint"]
        response = await client.post(
            token_endpoint,
            auth=(CLIENT_ID, CLIENT_SECRET),
            data={
                "grant_type": "authorization_code",
                "code": callback["code"][0],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
    assert response.status_code == 200, response.text
    claims = _jwt_claims(response.json()["id_token"])
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == login
    for name, value in expected.items():
        assert claims.get(name) == value, name


@pytest.mark.node
async def test_an_authorization_request_without_scope_reaches_the_login_page(idp: Idp) -> None:
    _, challenge = _pkce_pair()
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": idp.clients[0].redirect_uris[0],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    async with httpx2.AsyncClient() as client:
        response = await client.get(f"{idp.issuer}/auth?{urlencode(query)}")

    assert response.status_code == 303
    assert urljoin(idp.issuer, response.headers["location"]).startswith(f"{idp.issuer}/interaction/")


@pytest.mark.node
def test_node_from_tests_node_reports_v22() -> None:
    node = require_node22()

    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=10)

    assert result.stdout.startswith("v22.")


@pytest.mark.node
def test_the_mcp_conformance_cli_runs_on_node_22() -> None:
    node = require_node22()
    package = require_node_package("@modelcontextprotocol/conformance")

    result = subprocess.run(
        [node, package / "dist" / "index.js", "--version"], capture_output=True, text=True, check=True, timeout=30
    )

    assert result.stdout.strip() == "0.2.0-alpha.12"


@pytest.mark.node
@pytest.mark.parametrize(
    "package",
    [
        "oidc-provider",
        "@modelcontextprotocol/server-everything",
        "@modelcontextprotocol/conformance",
        "mcp-remote",
    ],
)
def test_npm_packages_for_the_suite_are_installed(package: str) -> None:
    directory = require_node_package(package)

    assert json.loads((directory / "package.json").read_text())["name"] == package


@pytest.mark.postgres
def test_postgres_from_portico_test_database_url_answers() -> None:
    url = require_postgres()

    with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2) as connection:
        row = connection.execute("SELECT 1").fetchone()

    assert row == (1,)


def test_require_skips_normally_and_fails_when_everything_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTICO_REQUIRE_ALL", raising=False)
    require(True, "present")
    with pytest.raises(pytest.skip.Exception, match="^thing absent$"):
        require(False, "thing absent")

    monkeypatch.setenv("PORTICO_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="^required component missing: thing absent$"):
        require(False, "thing absent")


def test_start_process_reports_an_early_exit_with_its_stderr() -> None:
    script = "import sys; sys.stderr.write('boom: no config\\n'); sys.exit(3)"

    with pytest.raises(ProcessStartError, match="exited with code 3(.|\n)*boom: no config"):
        with start_process([sys.executable, "-c", script], port=free_port(), timeout=10):
            pass


def test_start_process_waits_for_the_port_and_kills_the_whole_process_group() -> None:
    port = free_port()
    # The server runs in a grandchild; the direct child just waits for it.
    script = (
        "import subprocess, sys; subprocess.run([sys.executable, '-m', 'http.server', '--bind', '127.0.0.1', "
        f"'{port}'])"
    )

    with start_process([sys.executable, "-c", script], port=port, ready_url=f"http://127.0.0.1:{port}/") as process:
        assert port_answers(port)

    assert process.popen.returncode is not None
    deadline = time.monotonic() + 5
    while port_answers(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_answers(port)
