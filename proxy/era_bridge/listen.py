"""``subscriptions/listen`` (2026-07-28, SEP-2575) served from a handshake-era session's notifications.

A handshake-era server announces changes with ``notifications/tools/list_changed`` (and the prompt
and resource list equivalents) on its session; a 2026-07-28 client opts in to them per stream with
``subscriptions/listen``. Portico answers the listen itself: the stream opens with
``notifications/subscriptions/acknowledged`` naming the subset the upstream can honour (its
``listChanged`` capability flags; ``resourceSubscriptions`` are not bridged and never
acknowledged), then carries each matching notification with
``_meta["io.modelcontextprotocol/subscriptionId"]`` = the listen request's id. The stream ends
when the client closes it or the upstream session ends (with the gateway's error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from proxy.upstream.multiplexer import SUBSCRIPTION_ID_META_KEY
from proxy.wire.errors import GatewayError
from proxy.wire.jsonrpc import JsonRpcNotification, JsonRpcRequest, RequestId
from proxy.wire.outbox import Outbox, Outgoing

# filter key → (capability, notification method)
_LIST_CHANGED: Final = {
    "toolsListChanged": ("tools", "notifications/tools/list_changed"),
    "promptsListChanged": ("prompts", "notifications/prompts/list_changed"),
    "resourcesListChanged": ("resources", "notifications/resources/list_changed"),
}


@dataclass(eq=False)
class Listener:
    client_id: RequestId
    methods: frozenset[str]
    outbox: Outbox


class Listeners:
    """The open listen streams of one bridged upstream session."""

    def __init__(self) -> None:
        self._open: list[Listener] = []

    def open(self, request: JsonRpcRequest, initialize_result: dict[str, Any], outbox: Outbox) -> Listener:
        """Register a listen stream and queue its acknowledgement (the honoured subset of its filter)."""
        wanted = (request.params or {}).get("notifications")
        capabilities = initialize_result.get("capabilities")
        capabilities = capabilities if isinstance(capabilities, dict) else {}
        agreed: dict[str, bool] = {}
        for key, (capability, _method) in _LIST_CHANGED.items():
            flags = capabilities.get(capability)
            if (
                isinstance(wanted, dict)
                and wanted.get(key) is True
                and isinstance(flags, dict)
                and flags.get("listChanged")
            ):
                agreed[key] = True
        listener = Listener(request.id, frozenset(_LIST_CHANGED[key][1] for key in agreed), outbox)
        meta = {SUBSCRIPTION_ID_META_KEY: request.id}
        acknowledged = {"notifications": agreed, "_meta": meta}
        outbox.put(
            Outgoing({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": acknowledged})
        )
        self._open.append(listener)
        return listener

    def close(self, listener: Listener) -> None:
        if listener in self._open:
            self._open.remove(listener)

    def deliver(self, notification: JsonRpcNotification) -> bool:
        """Hand a list_changed notification to the streams that opted in; True if it was one."""
        if notification.method not in {method for _capability, method in _LIST_CHANGED.values()}:
            return False
        for listener in list(self._open):
            if notification.method in listener.methods:
                params = {**(notification.params or {})}
                params["_meta"] = {**(params.get("_meta") or {}), SUBSCRIPTION_ID_META_KEY: listener.client_id}
                listener.outbox.put(Outgoing({"jsonrpc": "2.0", "method": notification.method, "params": params}))
        return True

    def end_all(self, error: GatewayError) -> None:
        """The upstream session ended: each stream ends with ``error``."""
        for listener in self._open:
            listener.outbox.put(Outgoing(error.to_message(listener.client_id), final=True))
        self._open.clear()
