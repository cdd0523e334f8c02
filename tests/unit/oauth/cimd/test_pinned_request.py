"""The request sent to a validated address (resolve-then-pin, draft-...-document-00 §6)."""

from __future__ import annotations

import ipaddress

from oauth.cimd.client_id_url import parse_client_id_url
from oauth.cimd.fetch import pinned_request


def test_request_goes_to_the_address_but_names_the_host() -> None:
    target = parse_client_id_url("https://app.example.com:8443/oauth/client.json?v=2")
    assert target is not None
    request = pinned_request(target, ipaddress.ip_address("93.184.215.14"))
    assert str(request.url) == "https://93.184.215.14:8443/oauth/client.json?v=2"
    assert request.headers["host"] == "app.example.com:8443"
    assert request.extensions["sni_hostname"] == "app.example.com"


def test_ipv6_address_is_bracketed_in_the_url() -> None:
    target = parse_client_id_url("https://app.example.com/client")
    assert target is not None
    request = pinned_request(target, ipaddress.ip_address("2606:4700::1111"))
    assert str(request.url) == "https://[2606:4700::1111]/client"
    assert request.headers["host"] == "app.example.com"


def test_request_carries_no_credentials_and_asks_for_json_uncompressed() -> None:
    target = parse_client_id_url("https://app.example.com/client")
    assert target is not None
    request = pinned_request(target, ipaddress.ip_address("93.184.215.14"))
    assert request.method == "GET"
    assert {"authorization", "cookie"}.isdisjoint(request.headers.keys())
    assert (request.headers["accept"], request.headers["accept-encoding"]) == ("application/json", "identity")


def test_the_connection_is_not_kept_for_reuse() -> None:
    """Pooled by IP, a kept-alive TLS connection verified for one host could serve another host's request."""
    target = parse_client_id_url("https://app.example.com/client")
    assert target is not None
    assert pinned_request(target, ipaddress.ip_address("93.184.215.14")).headers["connection"] == "close"
