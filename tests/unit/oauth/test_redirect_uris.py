"""Redirect URIs: exact matching, the loopback port exception, registration rules, admin patterns."""

from __future__ import annotations

import pytest

from oauth.redirect_uris import allowed_by_patterns, redirect_uri_matches, redirect_uri_problem

CLAUDE = "https://claude.ai/api/mcp/auth_callback"


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        (CLAUDE, CLAUDE),
        ("http://127.0.0.1/callback", "http://127.0.0.1:53012/callback"),
        ("http://127.0.0.1:1234/callback", "http://127.0.0.1:9/callback"),
        ("http://[::1]/callback", "http://[::1]:61000/callback"),
        ("http://localhost/callback", "http://localhost:33418/callback"),
        ("http://localhost:8080/cb?x=1", "http://localhost:9090/cb?x=1"),
    ],
)
def test_exact_and_loopback_any_port_matches_are_accepted(registered: str, requested: str) -> None:
    """Spec-mandated (OAuth 2.1 §2.3.1 exact match; RFC 8252 §7.3 any port on loopback)."""
    assert redirect_uri_matches(registered, requested)


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        (CLAUDE, CLAUDE + "/"),
        (CLAUDE, "https://claude.ai:8443/api/mcp/auth_callback"),
        (CLAUDE, "https://CLAUDE.ai/api/mcp/auth_callback"),
        ("https://app.example.com/cb", "https://app.example.com:444/cb"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:5000/other"),
        ("http://127.0.0.1/callback", "http://localhost:5000/callback"),
        ("http://127.0.0.1/callback", "https://127.0.0.1:5000/callback"),
        ("http://localhost/cb?x=1", "http://localhost:1/cb?x=2"),
        ("http://localhost.evil.com/cb", "http://localhost.evil.com:1/cb"),
    ],
)
def test_other_differences_do_not_match(registered: str, requested: str) -> None:
    """Spec-mandated: only the port of a loopback redirect may differ."""
    assert not redirect_uri_matches(registered, requested)


@pytest.mark.parametrize(
    "uri",
    [
        CLAUDE,
        "https://claude.com/api/mcp/auth_callback",
        "http://127.0.0.1/cb",
        "http://[::1]:80/cb",
        "http://localhost/",
    ],
)
def test_https_and_loopback_http_are_registrable(uri: str) -> None:
    """Spec-mandated (MCP authorization §Communication Security: localhost or HTTPS)."""
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "https://app.example.com/cb#",
        "https://user:pw@app.example.com/cb",
        "cursor://callback",
        "javascript:alert(1)",
        "/relative",
        "https://host:99999/cb",
    ],
)
def test_other_redirect_uris_are_not_registrable(uri: str) -> None:
    assert redirect_uri_problem(uri) is not None


def test_without_patterns_everything_registrable_is_allowed() -> None:
    assert allowed_by_patterns("https://anything.example/cb", [])


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://claude.ai/api/mcp/auth_callback", True),
        ("https://team.example.com/oauth/callback", True),
        ("https://evil.com/x.example.com/oauth/callback", False),
        ("https://team.example.com/oauth/callback/extra", False),
        ("http://127.0.0.1:4567/callback", True),
        ("http://localhost:4567/callback", False),
        ("https://other.example/cb", False),
    ],
)
def test_admin_patterns_restrict_redirect_uris(uri: str, allowed: bool) -> None:
    """Our choice: ``*`` stays within one URL segment; loopback URIs are matched without their port."""
    patterns = [CLAUDE, "https://*.example.com/oauth/callback", "http://127.0.0.1/callback"]
    assert allowed_by_patterns(uri, patterns) is allowed


def test_a_pattern_with_a_port_wildcard_also_matches_loopback() -> None:
    assert allowed_by_patterns("http://127.0.0.1:4567/callback", ["http://127.0.0.1:*/callback"])
