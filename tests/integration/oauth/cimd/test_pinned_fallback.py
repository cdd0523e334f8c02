"""Pinned Claude documents stand in when the live fetch fails and nothing is cached."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest

from oauth.cimd import ClientMetadataDocumentError, ClientMetadataResolver

pytestmark = pytest.mark.anyio

CLAUDE = "https://claude.ai/oauth/mcp-oauth-client-metadata"
CLAUDE_CODE = "https://claude.ai/oauth/claude-code-client-metadata"


def unreachable(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


@pytest.fixture
async def failing_resolver() -> AsyncIterator[ClientMetadataResolver]:
    """Every connection fails (and, offline, so does DNS): either way the fetch fails."""
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(unreachable)) as http:
        yield ClientMetadataResolver(http, timeout=2.0)


@pytest.mark.parametrize(("url", "name"), [(CLAUDE, "Claude"), (CLAUDE_CODE, "Claude Code")])
async def test_claude_documents_fall_back_to_the_pinned_copy(
    failing_resolver: ClientMetadataResolver, url: str, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with anyio.fail_after(5), caplog.at_level(logging.WARNING, logger="oauth.cimd"):
        document = await failing_resolver.resolve(url)

    assert (document.client_id, document.client_name, document.pinned) == (url, name, True)
    assert document.host == "claude.ai"
    assert f"{url} (" in caplog.text and "pinned copy" in caplog.text


async def test_other_documents_have_no_fallback(failing_resolver: ClientMetadataResolver) -> None:
    with anyio.fail_after(5), pytest.raises(ClientMetadataDocumentError):
        await failing_resolver.resolve("https://claude.ai/oauth/some-other-client")


async def test_pinned_lookups_are_exact(failing_resolver: ClientMetadataResolver) -> None:
    """A look-alike URL (trailing slash, query) is a different client and gets no pinned copy."""
    for url in (CLAUDE + "/", CLAUDE + "?x=1"):
        with anyio.fail_after(5), pytest.raises(ClientMetadataDocumentError):
            await failing_resolver.resolve(url)
