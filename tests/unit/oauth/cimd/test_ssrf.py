"""The SSRF address classifier (draft-...-document-00 §6; MCP security best practices §SSRF)."""

from __future__ import annotations

import ipaddress

import pytest

from oauth.client.ssrf import AddressNotAllowedError, check_addresses, refusal_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("fc00::1", "private"),
        ("fd12:3456:789a::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud instance metadata
        ("169.254.0.1", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared address space"),  # CGNAT
        ("100.127.255.255", "shared address space"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.1.2.3", "not globally routable"),  # "this network"
        ("192.0.2.10", "not globally routable"),  # documentation
        ("198.18.0.1", "not globally routable"),  # benchmarking
        ("2001:db8::1", "not globally routable"),
        ("fec0::1", "not globally routable"),  # deprecated site-local
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused_with_their_category(address: str, reason: str) -> None:
    """Spec-recommended (§6): never fetch from loopback, private, link-local or special ranges."""
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "160.79.104.10",
        "172.15.255.255",  # just below 172.16/12
        "172.32.0.0",  # just above
        "100.63.255.255",  # just below 100.64/10
        "100.128.0.0",  # just above
        "169.253.255.255",
        "11.0.0.1",
        "2606:4700:4700::1111",
        "2607:6bc0::10",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    ],
)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_one_private_address_among_public_ones_refuses_the_whole_name() -> None:
    """Our own choice against DNS rebinding: ANY refused address refuses the host."""
    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.7")]
    with pytest.raises(AddressNotAllowedError) as caught:
        check_addresses(addresses)
    assert caught.value.reason == "address not allowed (private)"
    assert "10.0.0.7" not in str(caught.value)


def test_only_public_addresses_pass_the_check() -> None:
    check_addresses([ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("2606:4700:4700::1111")])
