"""A database outage seen from outside (#14 findings 1 and 3): Portico on PostgreSQL behind a TCP proxy.

Our own design (docs/adr/0006-bounded-database-work.md), on the spec's shapes: JSON endpoints answer
503 with ``Retry-After`` and the RFC 6749 §5.2 body ``temporarily_unavailable``; browser endpoints
show Portico's error page; the MCP endpoint answers a JSON-RPC error with HTTP 503. One WARNING per
outage transition, no traceback; recovery without a restart. Every wait is bounded by the configured
``call_timeout_seconds`` × 3.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.support.databases import isolated_postgres_database
from tests.support.deployment import NOTES_TOKEN, fixture_server_over_http
from tests.support.http_sign_in import DEV_PROVIDER
from tests.support.oauth import CLAUDE_CALLBACK, Pkce, hidden_input
from tests.support.portico import mint_access_token, run_portico
from tests.support.processes import Process
from tests.support.tcp_proxy import TcpProxy, proxied_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CALL_TIMEOUT = 2.0
BOUND = CALL_TIMEOUT * 3
RETRY_AFTER = 5
DATABASE = {
    "connect_timeout_seconds": 1,
    "statement_timeout_seconds": 2,
    "lock_timeout_seconds": 1,
    "pool_timeout_seconds": 2,
    "call_timeout_seconds": CALL_TIMEOUT,
    "readiness_timeout_seconds": 1,
    "retry_after_seconds": RETRY_AFTER,
}
PAGE_TITLE = "Sign-in is temporarily unavailable"
MODERN_TOOLS_LIST = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/list",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
MODERN_HEADERS = {
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/list",
}


@dataclass
class Outage:
    """A running Portico whose database connection goes through ``proxy``; a signed-in user's tokens."""

    portico: Process
    proxy: TcpProxy
    client_id: str
    access_token: str
    login_cookies: httpx2.Cookies

    @property
    def notes(self) -> str:
        return f"{self.portico.base_url}/notes/mcp"


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    with (
        isolated_postgres_database() as database_url,
        proxied_database(database_url) as (proxy, proxied_url),
        fixture_server_over_http() as notes,
    ):
        config: dict[str, Any] = {
            "database": DATABASE,
            "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
            "servers": {"notes": {"transport": "streamable-http", "url": notes, "credentials": NOTES_TOKEN}},
        }
        with run_portico(tmp_path, config, database_url=proxied_url) as portico:
            access_token = mint_access_token(tmp_path, f"{portico.base_url}/notes/mcp", subject="alice")
            yield Outage(portico, proxy, _registered_client(portico), access_token, _signed_in(portico))


def _registered_client(portico: Process) -> str:
    registered = httpx2.post(
        f"{portico.base_url}/register",
        json={"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"},
    )
    assert registered.status_code == 201, registered.text
    return str(registered.json()["client_id"])


def _signed_in(portico: Process) -> httpx2.Cookies:
    """The login session cookie of alice, signed in with the dev provider before the outage."""

    async def sign_in() -> httpx2.Cookies:
        async with httpx2.AsyncClient(base_url=portico.base_url) as http:
            assert (await _dev_sign_in(http, "alice@example.com")).status_code in (302, 303)
            return http.cookies

    return anyio.run(sign_in)


async def _timed(request: Any) -> httpx2.Response:
    """Await one request; it must be answered within :data:`BOUND` seconds."""
    started = time.monotonic()
    response: httpx2.Response = await request
    assert time.monotonic() - started < BOUND, f"{response.request.url.path} took longer than {BOUND} s"
    return response


def _assert_json_503(response: httpx2.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert response.json()["error"] == "temporarily_unavailable"
    assert response.json()["error_description"]


def _assert_page_503(response: httpx2.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert PAGE_TITLE in response.text
    assert "Traceback" not in response.text


async def _assert_clear_answers(outage: Outage) -> None:
    """Every kind of endpoint answers the outage in its own shape, in time."""
    async with httpx2.AsyncClient(base_url=outage.portico.base_url, timeout=BOUND * 2) as http:
        _assert_json_503(await _timed(http.post("/token", data=_code_exchange(outage.client_id))))
        _assert_json_503(await _timed(http.post("/register", json={"redirect_uris": [CLAUDE_CALLBACK]})))
        _assert_page_503(await _timed(http.get("/authorize", params=_authorization_request(outage))))
        _assert_page_503(await _timed(_dev_sign_in(http, "bob@example.com")))
    async with httpx2.AsyncClient(
        base_url=outage.portico.base_url, timeout=BOUND * 2, cookies=outage.login_cookies
    ) as http:
        _assert_page_503(await _timed(http.get("/connections")))
        _assert_page_503(await _timed(http.get("/consent")))
        ready = await _timed(http.get("/readyz"))
        assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "unreachable")
        mcp = await _timed(http.post(outage.notes, json=MODERN_TOOLS_LIST, headers=_bearer(outage)))
        assert mcp.status_code == 503, mcp.text
        assert mcp.headers["retry-after"] == str(RETRY_AFTER)
        assert (mcp.json()["id"], mcp.json()["error"]["data"]["reason"]) == (7, "database_unavailable")


async def _assert_recovered(outage: Outage) -> None:
    async with httpx2.AsyncClient(base_url=outage.portico.base_url, timeout=BOUND * 2) as http:
        with anyio.fail_after(BOUND):  # the pool replaces the reset connections on their next checkout
            while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110 - polling another process
                await anyio.sleep(0.1)
        registered = await http.post("/register", json={"redirect_uris": [CLAUDE_CALLBACK]})
        assert registered.status_code == 201, registered.text
        page = await http.get("/authorize", params=_authorization_request(outage))
        assert page.status_code in (200, 302, 303), page.text


async def test_a_silent_database_gets_clear_503s_within_the_call_timeout(outage: Outage) -> None:
    """Finding 1: a partition (accepted, never answered) no longer hangs /token, /register, /authorize,
    sign-in, /readyz or a cold MCP request; each answers 503 within call_timeout × 3."""
    outage.proxy.blackhole()
    await _assert_clear_answers(outage)
    outage.proxy.restore()
    await _assert_recovered(outage)


async def test_a_refused_database_gets_clear_answers_one_warning_and_no_traceback(outage: Outage) -> None:
    """Finding 3: a refused connection is 503 + Retry-After (JSON §5.2 body, HTML page, JSON-RPC error),
    logged as one WARNING when it starts and one when it ends, never as a traceback per request."""
    outage.proxy.refuse()
    await _assert_clear_answers(outage)
    await _assert_clear_answers(outage)  # a second round adds no log line
    outage.proxy.restore()
    await _assert_recovered(outage)
    log = outage.portico.stderr_text()
    assert "Traceback" not in log
    assert log.count("database unavailable") == 1, log
    assert log.count("database available again") == 1, log


def _code_exchange(client_id: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": "not-a-real-code",
        "code_verifier": Pkce().verifier,
        "client_id": client_id,
        "redirect_uri": CLAUDE_CALLBACK,
    }


def _authorization_request(outage: Outage) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": outage.client_id,
        "redirect_uri": CLAUDE_CALLBACK,
        "code_challenge": Pkce().challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": outage.notes,
    }


async def _dev_sign_in(http: httpx2.AsyncClient, email: str) -> httpx2.Response:
    """The dev provider's sign-in form (no database) and its submission (admits the user: database)."""
    form = await http.get("/login/dev", params={"return_to": "/connections"})
    assert form.status_code == 200, form.text
    fields = {
        "email": email,
        "csrf_token": hidden_input(form.text, "csrf_token"),
        "return_to": hidden_input(form.text, "return_to"),
    }
    return await http.post("/login/dev", data=fields)


def _bearer(outage: Outage) -> dict[str, str]:
    return {**MODERN_HEADERS, "authorization": f"Bearer {outage.access_token}"}
