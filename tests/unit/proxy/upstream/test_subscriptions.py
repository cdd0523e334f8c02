"""The resources a client session subscribed to, kept for re-subscription after an upstream restart."""

from __future__ import annotations

from proxy.upstream.subscriptions import subscribed_uris, track_subscriptions
from proxy.wire.jsonrpc import parse_message
from proxy.wire.mcp_sessions import McpSession


def request(method: str, uri: object, request_id: int) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {"uri": uri}}


def test_subscribe_adds_unsubscribe_removes_and_other_messages_are_ignored() -> None:
    """Our choice: what the client asked for (2025-11-25 server/resources §Subscriptions), in URI order."""
    session = McpSession("s", "user", "up", "2025-11-25", 0.0)
    messages = [
        request("resources/subscribe", "b://2", 1),
        request("resources/subscribe", "a://1", 2),
        request("resources/subscribe", 7, 3),
        request("resources/read", "c://3", 4),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    track_subscriptions(session, [parse_message(m) for m in messages])
    track_subscriptions(session, [parse_message(request("resources/unsubscribe", "b://2", 5))])
    assert subscribed_uris(session) == ["a://1"]
    assert subscribed_uris(McpSession("t", "user", "up", "2025-11-25", 0.0)) == []
