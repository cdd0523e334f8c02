"""What crosses the gateway in headers: an allow-list each way.

Towards the upstream server only MCP's own headers, content negotiation and trace context are
forwarded. ``Authorization``, ``Cookie``, hop-by-hop headers (RFC 9110 §7.6.1), forwarding and
identity headers (``X-Forwarded-*``, ``X-Remote-User``, …) never leave Portico because they are
not on the list; the server's configured credential is added by the caller (MCP authorization
§Access Token Privilege Restriction: the client's token MUST NOT be passed through).

Every request Portico sends to an upstream server gets its headers from :func:`upstream_headers`,
the one place where the credential meets the protocol headers.

Towards the client only headers that describe the MCP response survive; the upstream's
``Mcp-Session-Id`` is replaced by Portico's own, and ``WWW-Authenticate``/``Set-Cookie`` are
dropped (a challenge from the upstream would send the client's OAuth flow to the wrong server).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

FORWARDED_REQUEST_HEADERS: Final = frozenset(
    {
        "accept",
        "content-type",
        "user-agent",
        "accept-language",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "last-event-id",
        "traceparent",
        "tracestate",
        "baggage",
    }
)
FORWARDED_REQUEST_PREFIXES: Final = ("mcp-param-",)
RELAYED_RESPONSE_HEADERS: Final = frozenset(
    {"content-type", "cache-control", "retry-after", "allow", "x-accel-buffering"}
)


def upstream_request_headers(client_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers that may be forwarded upstream (names already lower-case)."""
    return [
        (name, value)
        for name, value in client_headers
        if name in FORWARDED_REQUEST_HEADERS or name.startswith(FORWARDED_REQUEST_PREFIXES)
    ]


def client_response_headers(upstream_headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The upstream's response headers that are relayed to the client."""
    return {name.lower(): value for name, value in upstream_headers if name.lower() in RELAYED_RESPONSE_HEADERS}


def upstream_headers(
    credential: Mapping[str, str],
    protocol: Mapping[str, str] | None = None,
    *,
    client: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """The headers of one request to an upstream server (names lower-case).

    Precedence, lowest first: the client's forwardable headers (:func:`upstream_request_headers`),
    the server's credential (configured headers, the user's token), then Portico's own protocol
    headers (``Accept``, ``Content-Type``, ``Mcp-Session-Id``, ``MCP-Protocol-Version``, …). So a
    credential never replaces a protocol header and a client header never replaces the
    credential. ``Accept-Encoding: identity`` always: Portico relays bytes as they come.
    """
    headers = dict(upstream_request_headers(client))
    headers.update(credential)
    headers["accept-encoding"] = "identity"
    if protocol:
        headers.update(protocol)
    return headers
