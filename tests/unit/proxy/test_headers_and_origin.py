"""What crosses the gateway in headers, and which Origins may call it."""

from __future__ import annotations

import pytest

from proxy.inbound.origin import OriginPolicy
from proxy.upstream.headers import client_response_headers, upstream_request_headers
from proxy.wire.errors import OriginNotAllowedError


def test_only_mcp_negotiation_and_trace_headers_go_upstream() -> None:
    """Spec-mandated (authorization §Token Passthrough) plus our allow-list for identity headers."""
    client = [
        ("authorization", "Bearer portico-token"),
        ("cookie", "a=b"),
        ("connection", "keep-alive"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-forwarded-user", "root"),
        ("host", "gw"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "x"),
        ("mcp-param-region", "eu"),
        ("traceparent", "00-abc-def-01"),
        ("mcp-session-id", "portico-session"),
    ]
    assert [name for name, _ in upstream_request_headers(client)] == [
        "accept",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "mcp-param-region",
        "traceparent",
    ]


def test_upstream_challenges_cookies_and_session_ids_never_reach_the_client() -> None:
    upstream = [
        ("Content-Type", "text/event-stream"),
        ("WWW-Authenticate", "Bearer realm=x"),
        ("Set-Cookie", "s=1"),
        ("Mcp-Session-Id", "upstream"),
        ("Cache-Control", "no-cache"),
    ]
    assert client_response_headers(upstream) == {"content-type": "text/event-stream", "cache-control": "no-cache"}


@pytest.mark.parametrize(
    "origin", [None, "https://gw.example.com", "https://GW.example.com:443", "https://app.example.com"]
)
def test_absent_own_and_configured_origins_pass(origin: str | None) -> None:
    OriginPolicy("https://gw.example.com", ["https://app.example.com"]).check(origin)


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "null", "http://gw.example.com", "https://gw.example.com:8443"]
)
def test_other_origins_are_refused_with_403(origin: str) -> None:
    """Spec-mandated (2025-11-25 transports §Security Warning)."""
    with pytest.raises(OriginNotAllowedError) as refused:
        OriginPolicy("https://gw.example.com", []).check(origin)
    assert refused.value.http_status == 403
