"""Strict absolute URIs (RFC 3986) that Python's urlsplit and browsers' WHATWG parser read alike."""

from __future__ import annotations

import pytest

from app.uri_syntax import absolute_uri_problem


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "https://app.example.com:8443/cb?x=1&y=%20",
        "http://127.0.0.1:53012/callback",
        "http://[::1]/callback",
        "http://localhost/",
        "https://xn--bcher-kva.example/cb",
        "https://a_b.example.com./cb",
    ],
)
def test_plain_absolute_uris_pass(uri: str) -> None:
    """Spec-mandated (RFC 3986 §4.3 absolute-URI with an authority)."""
    assert absolute_uri_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example/cb\r\nSet-Cookie: x=1",  # CR/LF: header injection, dropped by WHATWG
        "https://client.example/c\tb",
        "https://evil.com\\.example.com/cb",  # WHATWG reads "\" as "/": host evil.com
        "https://client.example/cb\x00",
        "https://client.example/cb\x7f",
        " https://client.example/cb",  # WHATWG trims; urlsplit keeps
        "https://client.example/c b",
        "https://client.exämple/cb",  # non-ASCII: IDNs must be punycode
        "https://client.example/cb\u202e",
        "https://user@client.example/cb",  # userinfo
        "https://client.example@evil.example/cb",
        "https://client.example/cb#x",  # fragment (RFC 6749 §3.1.2)
        "https://evil.com%2F.example.com/cb",  # WHATWG percent-decodes hosts
        "https://example%2ecom/cb",
        "https://0x7f.0.0.1/cb",  # WHATWG: IPv4 127.0.0.1
        "https://2130706433/cb",
        "https://1.2.3/cb",
        "https://[::1/cb",
        "https://[example.com]/cb",
        "https://client.example:99999/cb",
        "https://client.example:/cb",
        "https://client.example:8x/cb",
        "https:/client.example/cb",  # no authority: WHATWG would still find a host
        "https:client.example/cb",
        "//client.example/cb",
        "1https://client.example/cb",
        "https://",
        "https://%zz/cb",
        "https://client.example/" + "a" * 2000,
        "",
    ],
)
def test_uris_browsers_could_read_differently_are_refused(uri: str) -> None:
    """Our choice (issue #15 finding 6): refuse what RFC 3986 forbids and WHATWG parses differently."""
    assert absolute_uri_problem(uri) is not None


def test_a_fragment_may_be_allowed_by_the_caller() -> None:
    assert absolute_uri_problem("https://client.example/cb#top", allow_fragment=True) is None


def test_the_reason_never_repeats_the_uri() -> None:
    problem = absolute_uri_problem("https://secret-marker.example/cb\r\n")
    assert problem is not None and "secret-marker" not in problem
