"""CORS on ``/<name>/mcp`` for browser MCP clients (issue #15 finding 11).

Chromium runs ``fetch()`` from a page on an allowed origin and from one on another origin (two
loopback ports, so two origins) against a running Portico; raw requests pin the exact headers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.async_api import Page
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from tests.integration.proxy.gateway.harness import (
    LEGACY_HEADERS,
    Portico,
    fixture_stdio_server,
    initialize_body,
    serve_portico,
)
from tests.support.asgi_server import serve_asgi
from tests.support.browser import browser_fixture, page_fixture  # noqa: F401  (fixtures browser, page)

pytestmark = pytest.mark.anyio


async def blank_page(scope: Scope, receive: Receive, send: Send) -> None:
    await HTMLResponse("<!doctype html><title>client</title>")(scope, receive, send)


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[str, str]]:
    """Two page origins: the first is in ``gateway.allowed_origins``, the second is not."""
    with serve_asgi(blank_page) as allowed, serve_asgi(blank_page) as other:
        yield allowed, other


@pytest.fixture
async def portico(tmp_path: Path, pages: tuple[str, str]) -> AsyncIterator[Portico]:
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, allowed_origins=[pages[0]]) as running:
        yield running


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,mcp-protocol-version",
    }


@pytest.mark.parametrize("server", ["fx", "nope"])
async def test_a_preflight_from_an_allowed_origin_is_answered_before_authentication(
    portico: Portico, pages: tuple[str, str], server: str
) -> None:
    """Spec (Fetch §3.2.3 CORS-preflight): 2xx with the exact origin, never ``*``, no credentials flag."""
    async with httpx2.AsyncClient() as http:
        response = await http.options(f"{portico.base_url}/{server}/mcp", headers=preflight_headers(pages[0]))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == pages[0]
    assert "access-control-allow-credentials" not in response.headers
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id"} <= allowed
    assert {"mcp-method", "mcp-name"} <= allowed  # the 2026-07-28 routing headers
    assert {"POST", "GET", "DELETE"} <= {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}


async def test_a_preflight_from_another_origin_gets_no_cors_headers(portico: Portico, pages: tuple[str, str]) -> None:
    """Our choice: 403 (the Origin check's status), nothing a browser would accept."""
    async with httpx2.AsyncClient() as http:
        response = await http.options(portico.url("fx"), headers=preflight_headers(pages[1]))
    assert response.status_code == 403
    assert not [name for name in response.headers if name.startswith("access-control-")]


async def test_a_401_to_an_allowed_origin_carries_the_origin_and_exposes_the_challenge(
    portico: Portico, pages: tuple[str, str]
) -> None:
    """Spec (Fetch §3.2.5; MCP authorization §Authorization Server Location): the browser must read the 401."""
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            portico.url("fx"), json=initialize_body(), headers={**LEGACY_HEADERS, "origin": pages[0]}
        )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == pages[0]
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"www-authenticate", "mcp-session-id"} <= exposed
    assert response.headers.get_list("access-control-allow-origin") == [pages[0]]


FETCH = """async ([url, token, body]) => {
  const headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"};
  if (token) headers["authorization"] = "Bearer " + token;
  try {
    const response = await fetch(url, {method: "POST", headers, body});
    return {status: response.status, challenge: response.headers.get("www-authenticate"),
            session: response.headers.get("mcp-session-id"), body: await response.text()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


async def browser_fetch(page: Page, origin: str, url: str, token: str | None) -> dict[str, Any]:
    await page.goto(origin)
    result: dict[str, Any] = await page.evaluate(FETCH, [url, token, json.dumps(initialize_body())])
    return result


@pytest.mark.browser
async def test_a_page_on_an_allowed_origin_reads_the_challenge_then_calls_with_a_token(
    portico: Portico, pages: tuple[str, str], page: Page
) -> None:
    """Spec-mandated flow (MCP authorization §Authorization Flow Steps) from a browser client."""
    anonymous = await browser_fetch(page, pages[0], portico.url("fx"), None)
    assert anonymous["status"] == 401
    assert 'resource_metadata="' in anonymous["challenge"]
    authorized = await browser_fetch(page, pages[0], portico.url("fx"), portico.token("fx"))
    assert authorized["status"] == 200, authorized
    assert authorized["session"]
    assert '"serverInfo"' in authorized["body"]


@pytest.mark.browser
async def test_a_page_on_another_origin_cannot_call_or_read(
    portico: Portico, pages: tuple[str, str], page: Page
) -> None:
    """Our choice: only ``gateway.allowed_origins`` (and Portico's own) may call from a browser."""
    for token in (None, portico.token("fx")):
        result = await browser_fetch(page, pages[1], portico.url("fx"), token)
        assert "TypeError" in result.get("error", ""), result
