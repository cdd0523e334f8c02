"""RFC 8707 resource indicators: known server URLs, canonical comparison, and the missing-resource rule."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import PorticoConfig
from oauth.errors import InvalidTargetError
from oauth.resource_indicators import check_same_resource, resolve_resource
from oauth.tokens.resources import ResourceRegistry

ISSUER = "https://gw.example.com"


def registry(*names: str) -> ResourceRegistry:
    servers: dict[str, Any] = {
        name: {"transport": "streamable-http", "url": "https://up.example/mcp"} for name in names
    }
    return ResourceRegistry(PorticoConfig.model_validate({"public_url": ISSUER, "servers": servers}))


@pytest.mark.parametrize(
    "requested",
    [f"{ISSUER}/github/mcp", "HTTPS://GW.EXAMPLE.COM/github/mcp", f"{ISSUER}/github/mcp/", f"{ISSUER}:443/github/mcp"],
)
def test_a_configured_server_url_is_accepted_in_any_canonical_spelling(requested: str) -> None:
    """Spec-mandated (MCP §Resource Parameter: accept uppercase scheme/host; RFC 8707 §2)."""
    assert resolve_resource(registry("github", "jira"), [requested]).resource == f"{ISSUER}/github/mcp"


@pytest.mark.parametrize(
    "requested",
    [
        [f"{ISSUER}/nope/mcp"],
        [f"{ISSUER}/github"],
        ["https://evil.example/github/mcp"],
        [f"{ISSUER}/github/mcp#x"],
        ["not a url"],
        [f"{ISSUER}/github/mcp", f"{ISSUER}/jira/mcp"],
    ],
)
def test_unknown_or_several_resources_are_invalid_target(requested: list[str]) -> None:
    """Spec-mandated (RFC 8707 §2): ``invalid_target``."""
    with pytest.raises(InvalidTargetError):
        resolve_resource(registry("github", "jira"), requested)


def test_missing_resource_with_one_server_means_its_streamable_http_route() -> None:
    """Our choice (documented in oauth/resource_indicators.py): the only server is unambiguous."""
    assert resolve_resource(registry("github"), []).resource == f"{ISSUER}/github/mcp"


def test_missing_resource_with_several_servers_is_invalid_target() -> None:
    """Our choice: with several servers Portico does not guess."""
    with pytest.raises(InvalidTargetError) as raised:
        resolve_resource(registry("github", "jira"), [])
    assert "resource is required" in str(raised.value.description)


def test_missing_resource_without_servers_is_invalid_target() -> None:
    with pytest.raises(InvalidTargetError):
        resolve_resource(registry(), [])


def test_token_request_may_omit_or_repeat_the_bound_resource() -> None:
    check_same_resource(f"{ISSUER}/github/mcp", [])
    check_same_resource(f"{ISSUER}/github/mcp", ["HTTPS://gw.example.com/github/mcp/"])


def test_token_request_naming_another_resource_is_invalid_target() -> None:
    """Spec-mandated (MCP §Resource Parameter; RFC 8707 §2.2)."""
    with pytest.raises(InvalidTargetError):
        check_same_resource(f"{ISSUER}/github/mcp", [f"{ISSUER}/jira/mcp"])
