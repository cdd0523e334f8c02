"""The MCP conformance suite's ``authorization`` scenarios against a running Portico, driven headless.

``@modelcontextprotocol/conformance@0.2.0-alpha.12 authorization`` checks the authorization server
metadata and performs a full authorization-code grant with PKCE; a real Chromium signs in with the
dev provider and approves Portico's consent page, and the redirect reaches the suite's callback.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.streams.text import TextReceiveStream
from playwright.async_api import Page

from tests.support.pages import authorize_in_browser
from tests.support.portico import run_portico
from tests.support.processes import free_port
from tests.support.requirements import require_node22, require_node_package

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

CONFIG = {
    "login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]},
    "servers": {"time": {"transport": "stdio", "command": "mcp-server-time"}},
}


async def test_conformance_authorization_scenarios_pass(page: Page, tmp_path: Path) -> None:
    node = require_node22()
    conformance = require_node_package("@modelcontextprotocol/conformance") / "dist" / "index.js"
    callback_port = free_port()
    with run_portico(tmp_path, CONFIG) as portico:
        issuer = portico.base_url
        registration = httpx2.post(
            f"{issuer}/register",
            json={
                "client_name": "MCP conformance suite",
                "token_endpoint_auth_method": "none",
                "redirect_uris": [f"http://127.0.0.1:{callback_port}/callback"],
            },
        )
        assert registration.status_code == 201, registration.text
        argv = [
            str(node),
            str(conformance),
            "authorization",
            "--url",
            issuer,
            "--client-id",
            registration.json()["client_id"],
            "--resource",
            f"{issuer}/time/mcp",
            "-p",
            str(callback_port),
            "-o",
            str(tmp_path / "results"),
        ]
        output: list[str] = []
        with anyio.fail_after(120):
            async with await anyio.open_process(argv, stderr=None) as process:
                assert process.stdout is not None
                async for chunk in TextReceiveStream(process.stdout):
                    output.append(chunk)
                    url = _authorization_url("".join(output), issuer)
                    if url is not None:
                        break
                assert url is not None, "".join(output)
                await authorize_in_browser(page, url, "alice@example.com")
                output.extend([chunk async for chunk in TextReceiveStream(process.stdout)])
                await process.wait()
    checks = _checks(tmp_path / "results")
    failed = [c for c in checks if c["status"] not in ("SUCCESS", "INFO", "WARNING")]
    assert checks and not failed, json.dumps(failed, indent=2) + "".join(output)
    passed = {str(c["id"]) for c in checks if c["status"] == "SUCCESS"}
    assert {
        "authorization-server-metadata",
        "authorization-server-metadata-cimd",
        "authorization-code-grant",
    } <= passed, sorted(passed)
    (tmp_path / "checks-summary.txt").write_text("\n".join(sorted(passed)))


def _authorization_url(text: str, issuer: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(f"{issuer}/authorize?"):
            return line.strip()
    return None


def _checks(results: Path) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for path in sorted(results.rglob("checks.json")):
        found.extend(json.loads(path.read_text()))
    return found
