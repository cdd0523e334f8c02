"""The limit key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's usual allocation).

``listen.trusted_proxies`` makes the request's client the real client behind a reverse proxy (the
rightmost forwarded address no trusted proxy added, app/forwarded.py), so one caller's requests use
up only its own allowance.
"""

from __future__ import annotations

import ipaddress


def client_key(address: str | None) -> str:
    """``"unknown"`` without an address; an unparsable one as is."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
