"""Which client_id strings are metadata document URLs (draft-...-document-00 §3)."""

from __future__ import annotations

import pytest

from oauth.cimd import is_client_id_url
from oauth.cimd.client_id_url import MAX_CLIENT_ID_LENGTH, parse_client_id_url


@pytest.mark.parametrize(
    "client_id",
    [
        "https://claude.ai/oauth/mcp-oauth-client-metadata",
        "https://app.example.com/client.json",
        "https://app.example.com:8443/oauth/client",
        "https://app.example.com/client?v=1",
        "https://app.example.com/a/b/c/",
        "https://93.184.215.14/client",
        "https://[2606:4700::1111]/client",
        "https://xn--bcher-kva.example/client",
    ],
)
def test_https_url_with_a_path_is_a_client_id_url(client_id: str) -> None:
    """Spec-mandated (§3): https, a path; port and query allowed."""
    assert is_client_id_url(client_id)


@pytest.mark.parametrize(
    "client_id",
    [
        "http://app.example.com/client",  # not https
        "HTTPS://app.example.com/client",  # we accept only the canonical lower-case scheme
        "ftp://app.example.com/client",
        "https://app.example.com",  # no path
        "https://app.example.com/",  # root path
        "https://app.example.com/client#x",  # fragment
        "https://app.example.com/client#",  # empty fragment
        "https://user@app.example.com/client",  # userinfo
        "https://user:pw@app.example.com/client",
        "https://app.example.com/./client",  # dot segments
        "https://app.example.com/a/../client",
        "https://app.example.com/a/..",
        "https://app.example.com/%2e%2e/client",  # percent-encoded dot segment
        "https://app.example.com/%2E/client",
        "https://app.example.com/a b",  # whitespace
        "https://app.example.com/caf\u00e9",  # non-ASCII
        "https://app.example.com\\@evil.example/client",  # backslash
        "https://app.example.com:0/client",  # port 0
        "https://app.example.com:99999/client",  # invalid port
        "https://app.example.com:abc/client",
        "https:///client",  # no host
        "https://bad_host.example/client",  # not a host name
        "https://app.example.com./client",  # trailing dot
        "urn:example:client",
        "client-1234",  # a DCR-issued client_id
        "",
    ],
)
def test_other_strings_are_not_client_id_urls(client_id: str) -> None:
    """Spec-mandated (§3) except where commented: our own stricter canonical-form choices."""
    assert not is_client_id_url(client_id)


def test_a_client_id_url_longer_than_the_limit_is_refused() -> None:
    """Our own choice: at most 2048 characters."""
    base = "https://app.example.com/"
    assert is_client_id_url(base + "a" * (MAX_CLIENT_ID_LENGTH - len(base)))
    assert not is_client_id_url(base + "a" * (MAX_CLIENT_ID_LENGTH - len(base) + 1))


def test_plain_http_is_accepted_only_for_the_listed_test_hosts() -> None:
    """Our own choice: ``allow_hosts`` lets tests use local http servers."""
    url = "http://127.0.0.1:8123/client.json"
    assert parse_client_id_url(url) is None
    assert parse_client_id_url(url, http_hosts=frozenset({"127.0.0.1"})) is not None
    assert parse_client_id_url(url, http_hosts=frozenset({"localhost"})) is None


def test_parsed_url_gives_host_port_and_host_header() -> None:
    target = parse_client_id_url("https://App.Example.com:8443/client")
    assert target is not None
    assert (target.host, target.port, target.host_header) == ("app.example.com", 8443, "app.example.com:8443")


def test_default_port_is_left_out_of_the_host_header_and_ipv6_is_bracketed() -> None:
    target = parse_client_id_url("https://[2606:4700::1111]:443/client")
    assert target is not None
    assert (target.host, target.port, target.host_header) == ("2606:4700::1111", 443, "[2606:4700::1111]")
