"""What a client request asks to use, and whether a :class:`~app.policy.access.ServerAccess` allows it.

Checked requests and the target each names (MCP 2025-11-25 server/tools, server/resources,
server/prompts, server/utilities/completion; 2026-07-28 ``subscriptions/listen``):

| method | target |
|---|---|
| ``tools/call`` | tool ``params.name`` |
| ``resources/read``, ``resources/subscribe``, ``resources/unsubscribe`` | resource ``params.uri`` |
| ``prompts/get`` | prompt ``params.name`` |
| ``completion/complete`` | ``params.ref``: ``ref/prompt`` → prompt ``name``; ``ref/resource`` → resource ``uri`` |
| ``subscriptions/listen`` | every resource URI in ``params.notifications.resourceSubscriptions`` |

Every other request (``initialize``, lists, ``ping``, …) names no target: it passes when the server
is usable at all. A checked request whose target is not a string is refused (default deny).
"""

from __future__ import annotations

from typing import Any, Final

from app.policy.access import ServerAccess, TargetKind
from proxy.wire.errors import PolicyDeniedError
from proxy.wire.jsonrpc import JsonRpcRequest

_NAMED: Final[dict[str, tuple[TargetKind, str]]] = {
    "tools/call": ("tool", "name"),
    "resources/read": ("resource", "uri"),
    "resources/subscribe": ("resource", "uri"),
    "resources/unsubscribe": ("resource", "uri"),
    "prompts/get": ("prompt", "name"),
}
_REFS: Final[dict[str, tuple[TargetKind, str]]] = {
    "ref/prompt": ("prompt", "name"),
    "ref/resource": ("resource", "uri"),
}
CHECKED_METHODS: Final = frozenset({*_NAMED, "completion/complete", "subscriptions/listen"})
UNNAMED: Final = "?"


def targets(request: JsonRpcRequest) -> list[tuple[TargetKind, str]]:
    """The targets ``request`` names (empty for unchecked methods; ``?`` stands for a missing name)."""
    method = request.method
    if method not in CHECKED_METHODS:
        return []
    params = request.params or {}
    named = _NAMED.get(method)
    if named is not None:
        return [(named[0], _name(params.get(named[1])))]
    if method == "completion/complete":
        ref = params.get("ref")
        ref = ref if isinstance(ref, dict) else {}
        kind = _REFS.get(ref.get("type"))  # type: ignore[arg-type]
        return [(kind[0], _name(ref.get(kind[1])))] if kind is not None else [("prompt", UNNAMED)]
    notifications = params.get("notifications")
    uris = notifications.get("resourceSubscriptions") if isinstance(notifications, dict) else None
    return [("resource", _name(uri)) for uri in uris] if isinstance(uris, list) else []


def _name(value: Any) -> str:
    return value if isinstance(value, str) else UNNAMED


def policy_refusal(access: ServerAccess, request: JsonRpcRequest) -> PolicyDeniedError | None:
    """None when ``access`` lets ``request`` through; else the -32012 error to answer it with."""
    if not access.usable:
        return PolicyDeniedError(access.server)
    if request.method == "tools/call":  # the hot path: no list built
        name = (request.params or {}).get("name")
        if isinstance(name, str) and access.allows("tool", name):
            return None
    elif request.method not in CHECKED_METHODS:
        return None
    for kind, name in targets(request):
        if name == UNNAMED or not access.allows(kind, name):
            return PolicyDeniedError(access.server, kind, name)
    return None
