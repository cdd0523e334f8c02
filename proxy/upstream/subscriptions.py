"""The resources a client session has subscribed to (``resources/subscribe``), kept to re-subscribe them.

An upstream that restarts forgets its sessions and their subscriptions (2025-11-25
server/resources §Subscriptions). Portico re-initializes the upstream session for the client
(:mod:`proxy.backends.http_recovery`) and then subscribes again to every URI recorded here, so
``notifications/resources/updated`` keep coming without the client noticing.

Recorded when the request is forwarded (an upstream that refuses it merely gets the same refusal
again on recovery); ``resources/unsubscribe`` removes the URI.
"""

from __future__ import annotations

from typing import Final

from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcRequest
from proxy.wire.mcp_sessions import McpSession

SUBSCRIPTIONS: Final = "resource_subscriptions"
_SUBSCRIBE: Final = "resources/subscribe"
_UNSUBSCRIBE: Final = "resources/unsubscribe"


def track_subscriptions(session: McpSession, messages: list[JsonRpcMessage]) -> None:
    """Record the URIs that ``messages`` (a client POST) subscribe to or unsubscribe from."""
    for message in messages:
        if not isinstance(message, JsonRpcRequest) or message.method not in (_SUBSCRIBE, _UNSUBSCRIBE):
            continue
        uri = (message.params or {}).get("uri")
        if not isinstance(uri, str):
            continue
        uris: set[str] = session.attachments.setdefault(SUBSCRIPTIONS, set())
        if message.method == _SUBSCRIBE:
            uris.add(uri)
        else:
            uris.discard(uri)


def subscribed_uris(session: McpSession) -> list[str]:
    """The URIs the session is subscribed to, sorted."""
    uris = session.attachments.get(SUBSCRIPTIONS)
    return sorted(uris) if isinstance(uris, set) else []
