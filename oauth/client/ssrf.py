"""SSRF guard for fetches of URLs someone else chose: resolve once, refuse non-public addresses, pin.

Portico fetches URLs it did not choose: a client's metadata document (the authorization server,
draft-ietf-oauth-client-id-metadata-document-00 §6 Security Considerations, SSRF) and an upstream
MCP server's discovery documents and endpoints (the MCP security best practices, §SSRF Against
Authorization Servers). Neither may reach loopback, private, link-local (cloud metadata at
169.254.169.254), or otherwise non-public addresses. The host is resolved once; if ANY address is
refused the whole name is refused (a name that mixes public and private addresses is a DNS
rebinding setup); the connection then goes to exactly the validated address, so a second,
different DNS answer cannot be used against us.

Refusals are :class:`DestinationError` s whose ``reason`` is safe to show: it never names an
address. Callers turn them into their own errors.
"""

from __future__ import annotations

import ipaddress
import socket

import anyio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)  # RFC 1918, RFC 4193
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix


class DestinationError(Exception):
    """A host the guard will not connect to. ``reason`` is short, safe text that names no address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostNotResolvedError(DestinationError):
    """The host name does not resolve (reason ``host did not resolve``)."""

    def __init__(self) -> None:
        super().__init__("host did not resolve")


class AddressNotAllowedError(DestinationError):
    """An address of the host is not public (reason ``address not allowed (<category>)``).

    ``category`` is one of :func:`refusal_reason`'s answers.
    """

    def __init__(self, category: str) -> None:
        super().__init__(f"address not allowed ({category})")
        self.category = category


def refusal_reason(address: IPAddress) -> str | None:
    """Why a fetch must not connect to ``address``, or None when it is a public unicast address.

    IPv4 embedded in IPv6 (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``, 6to4
    ``2002::/16``) is judged as the IPv4 address it carries. Reasons: ``loopback``, ``private``
    (RFC 1918, fc00::/7), ``link-local`` (169.254/16 incl. cloud metadata, fe80::/10),
    ``unspecified``, ``multicast``, ``shared address space`` (100.64/10), ``reserved``, and
    ``not globally routable`` for every other special-purpose range (documentation, benchmarking,
    site-local, ...).
    """
    address = _embedded_ipv4(address) or address
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in _SHARED, "shared address space"),
        (any(address in network for network in _PRIVATE), "private"),
        (address.is_reserved, "reserved"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "not globally routable"),
        (not address.is_global, "not globally routable"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def check_addresses(addresses: list[IPAddress]) -> None:
    """Refuse the lot if any address is not public.

    Raises:
        AddressNotAllowedError: ``address not allowed (<reason>)``; no address is named.
    """
    for address in addresses:
        reason = refusal_reason(address)
        if reason is not None:
            raise AddressNotAllowedError(reason)


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to now, in resolver order, without duplicates.

    An IP literal is returned as is, without a lookup.

    Raises:
        HostNotResolvedError: the name does not resolve.
    """
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        results = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostNotResolvedError from exc
    addresses = [ipaddress.ip_address(result[4][0]) for result in results]
    if not addresses:
        raise HostNotResolvedError
    return list(dict.fromkeys(addresses))
