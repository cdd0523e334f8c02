"""Real :class:`~app.policy.access.ServerAccess` objects and JSON-RPC requests for the policy guard's unit tests."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from app.policy.access import ServerAccess, TargetKind
from proxy.wire.jsonrpc import JsonRpcRequest


def access_to(server: str, allowed: dict[TargetKind, list[str]], *, usable: bool = True) -> ServerAccess:
    """What may be used on ``server``: per kind, the globs of allowed names (everything else denied)."""

    def decide(kind: TargetKind, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in allowed.get(kind, []))

    return ServerAccess(server, usable=usable, decide=decide)


def request(method: str, params: dict[str, Any] | None = None, request_id: int | str = 1) -> JsonRpcRequest:
    raw: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        raw["params"] = params
    return JsonRpcRequest(raw)
