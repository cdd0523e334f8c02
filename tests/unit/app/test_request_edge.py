"""Pure pieces of the request edge: Forwarded parsing, Host names, rate-limit keys, MCP paths, I-JSON."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.allowed_hosts import host_name
from app.config import PorticoConfig
from app.forwarded import parse_element, split_node
from app.limits.addresses import client_key
from proxy.inbound.cors import is_mcp_path
from proxy.wire.jsonrpc import decode_json


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ("for=192.0.2.60;proto=http;by=203.0.113.43", {"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}),
        ('For="[2001:db8:cafe::17]:4711"', {"for": "[2001:db8:cafe::17]:4711"}),  # RFC 7239 §4 example
        (" for=unknown ; PROTO=HTTPS", {"for": "unknown", "proto": "HTTPS"}),
        ('for="_gazonk"', {"for": "_gazonk"}),
        ("for=192.0.2.1;for=198.51.100.1", {"for": "192.0.2.1"}),  # a repeated parameter: the first counts
    ],
)
def test_forwarded_elements_are_parsed_as_rfc7239_section_4_says(element: str, expected: dict[str, str]) -> None:
    """Spec-mandated (RFC 7239 §4): names are case-insensitive, values tokens or quoted-strings."""
    assert parse_element(element) == expected


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("192.0.2.43", ("192.0.2.43", 0)),
        ("192.0.2.43:47011", ("192.0.2.43", 47011)),
        ("[2001:db8:cafe::17]:4711", ("2001:db8:cafe::17", 4711)),
        ("[2001:db8:cafe::17]", ("2001:db8:cafe::17", 0)),
        ("unknown", ("unknown", 0)),
        ("_hidden:_port", ("_hidden", 0)),
        ("192.0.2.43:99999", ("192.0.2.43", 0)),
    ],
)
def test_forwarded_nodes_split_into_host_and_port(node: str, expected: tuple[str, int]) -> None:
    """Spec-mandated (RFC 7239 §6): IPv6 in brackets, optional port, ``unknown`` and obfuscated identifiers."""
    assert split_node(node) == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (b"gw.example.com", "gw.example.com"),
        (b"GW.Example.com:443", "gw.example.com"),
        (b"[::1]:8080", "::1"),
        (b"[::1", "[::1"),
        (b"evil.example/x", "evil.example/x"),
    ],
)
def test_host_values_reduce_to_their_name(value: bytes, name: str) -> None:
    """Spec (RFC 9110 §7.2: Host = uri-host [ ":" port ]); anything else stays as sent, and is not allowed."""
    assert host_name(value) == name


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        (None, "unknown"),
        ("unknown", "unknown"),
    ],
)
def test_rate_limit_keys_are_the_address_or_its_ipv6_64(address: str | None, key: str) -> None:
    """Our choice: an IPv6 subscriber holds a /64; an IPv4-mapped address is its IPv4 address."""
    assert client_key(address) == key


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/notes/mcp", True),
        ("/notes/sse", True),
        ("/notes/sse/messages", True),
        ("/register", False),
        ("/.well-known/oauth-protected-resource/notes/mcp", False),
        ("/a/b/c/mcp", False),
    ],
)
def test_mcp_paths_are_recognised_whatever_the_server_name(path: str, expected: bool) -> None:
    assert is_mcp_path(path) is expected


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"a":2}',
        b'{"params":{"arguments":{"x":1,"x":1}}}',
        b'[{"id":1},{"id":1,"id":2}]',
        b'"\xed\xa0\x80"',
        b"\xff",
        '{"a":1}'.encode("utf-16"),
        '{"a":1}'.encode("utf-32"),
        b"\xef\xbb\xbf{}",
    ],
)
def test_bodies_that_are_not_i_json_are_refused(body: bytes) -> None:
    """Our choice (RFC 7493 §2.1 UTF-8, §2.3 unique names): what Portico reads is what upstream reads."""
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_json(body)


def test_equal_names_in_different_objects_are_fine() -> None:
    assert decode_json(b'{"a":{"a":1},"b":[{"a":2},{"a":3}]}') == {"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}


@pytest.mark.parametrize(
    ("listen", "key"),
    [
        ({"trusted_proxies": ["nope"]}, "trusted_proxies"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "trusted_proxies"),
        ({"allowed_hosts": ["gw.example.com:443"]}, "allowed_hosts"),
        ({"allowed_hosts": ["https://gw.example.com"]}, "allowed_hosts"),
        ({"forwarded_header": "x-real-ip"}, "forwarded_header"),
    ],
)
def test_bad_edge_settings_are_refused_naming_the_key(listen: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PorticoConfig.model_validate({"public_url": "https://gw.example.com", "listen": listen})
    assert [error["loc"][:2] for error in raised.value.errors()] == [("listen", key)]


def test_trusted_proxies_are_normalised_to_networks() -> None:
    config = PorticoConfig.model_validate(
        {"public_url": "https://gw.example.com", "listen": {"trusted_proxies": ["10.1.2.3/8", "::1"]}}
    )
    assert config.listen.trusted_proxies == ["10.0.0.0/8", "::1/128"]
