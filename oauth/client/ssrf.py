"""SSRF guard for metadata document fetches: resolve once, refuse non-public addresses, pin.

draft-ietf-oauth-client-id-metadata-document-00 §6 (Security Considerations, SSRF) and the MCP
security best practices (§SSRF Against Authorization Servers): the authorization server fetches
URLs chosen by whoever sends it an authorization request, so it must not reach loopback, private,
link-local (cloud metadata at 169.254.169.254), or otherwise non-public addresses. The host is
resolved once; if ANY address is refused the whole name is refused (a name that mixes public and
private addresses is a DNS rebinding setup); the connection then goes to exactly the validated
address, so a second, different DNS answer cannot be used against us.
"""

from __future__ import annotations

import ipaddress
import socket

import anyio

from oauth.cimd.errors import ClientMetadataDocumentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)  # RFC 1918, RFC 4193
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix


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
        ClientMetadataDocumentError: ``address not allowed (<reason>)``; no address is named.
    """
    for address in addresses:
        reason = refusal_reason(address)
        if reason is not None:
            raise ClientMetadataDocumentError(f"address not allowed ({reason})")


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to now, in resolver order, without duplicates.

    An IP literal is returned as is, without a lookup.

    Raises:
        ClientMetadataDocumentError: the name does not resolve.
    """
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        results = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ClientMetadataDocumentError("host did not resolve") from exc
    addresses = [ipaddress.ip_address(result[4][0]) for result in results]
    if not addresses:
        raise ClientMetadataDocumentError("host did not resolve")
    return list(dict.fromkeys(addresses))
