"""Resource indicators (RFC 8707) map to exactly one configured route."""

from __future__ import annotations

import pytest

from app.config import PorticoConfig
from oauth.tokens.resources import ResourceRegistry, canonical_resource

CONFIG = PorticoConfig.model_validate(
    {
        "public_url": "https://gw.example.com",
        "servers": {"github": {"transport": "streamable-http", "url": "https://up.example.com/mcp"}},
    }
)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://gw.example.com/github/mcp", "https://gw.example.com/github/mcp"),
        ("HTTPS://GW.Example.COM/github/mcp", "https://gw.example.com/github/mcp"),
        ("https://gw.example.com:443/github/mcp/", "https://gw.example.com/github/mcp"),
        ("http://127.0.0.1:8080/time/mcp", "http://127.0.0.1:8080/time/mcp"),
        ("https://gw.example.com/github/mcp#frag", None),
        ("ftp://gw.example.com/x", None),
        ("not a url", None),
        ("https://user@gw.example.com/x", None),
        ("https://gw.example.com:99999/x", None),
    ],
)
def test_canonical_resource(given: str, canonical: str | None) -> None:
    assert canonical_resource(given) == canonical


def test_each_server_has_an_mcp_and_an_sse_resource_with_its_own_metadata_url() -> None:
    registry = ResourceRegistry(CONFIG)
    mcp = registry.for_path("/github/mcp")
    sse = registry.for_path("/github/sse")
    assert mcp is not None and sse is not None
    assert mcp.resource == "https://gw.example.com/github/mcp"
    assert mcp.metadata_url == "https://gw.example.com/.well-known/oauth-protected-resource/github/mcp"
    assert sse.resource == "https://gw.example.com/github/sse"


def test_find_accepts_uppercase_scheme_and_host_but_not_other_paths() -> None:
    registry = ResourceRegistry(CONFIG)
    found = registry.find("HTTPS://GW.EXAMPLE.COM/github/mcp")
    assert found is not None and found.server == "github"
    assert registry.find("https://gw.example.com/github") is None
    assert registry.find("https://gw.example.com/GitHub/mcp") is None
    assert registry.find("https://evil.example.com/github/mcp") is None
