"""Translating messages between a 2026-07-28 client and a handshake-era upstream.

- **Up:** the request's ``_meta`` loses its ``io.modelcontextprotocol/*`` envelope keys
  (protocol version, client capabilities, client info: 2026-07-28 basic/index.mdx §Request
  Metadata), which a handshake server does not expect; ``progressToken`` and any other key stay.
  ``inputResponses``/``requestState`` never go up (they are Portico's to resolve).
- **Down:** every result gains ``resultType: "complete"``, the cacheable results their required
  ``ttlMs`` (0: Portico cannot know) and ``cacheScope`` (``"private"``: one user's session), and the
  ``io.modelcontextprotocol/serverInfo`` ``_meta`` stamp (spec #3002), then pass the SDK's 2026-07-28
  result surface (``mcp_types.methods.serialize_server_result``) so handshake-only fields are sieved.
- **server/discover** is answered from the upstream's cached ``InitializeResult``.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from mcp_types import SERVER_INFO_META_KEY
from mcp_types.methods import serialize_server_result
from mcp_types.version import LATEST_MODERN_VERSION
from pydantic import ValidationError

log = logging.getLogger("portico.proxy")
ENVELOPE_PREFIX: Final = "io.modelcontextprotocol/"
CLIENT_CAPABILITIES_KEY: Final = f"{ENVELOPE_PREFIX}clientCapabilities"
_CACHEABLE: Final = frozenset(
    {"tools/list", "resources/list", "resources/templates/list", "prompts/list", "resources/read", "server/discover"}
)
_PORTICO_PARAMS: Final = ("inputResponses", "requestState")
# Resource subscriptions are not bridged: never advertised (list_changed is, via subscriptions/listen).
_SUBSCRIPTION_FLAGS: Final = ("subscribe",)


def strip_envelope(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` as a handshake-era request: envelope keys and retry fields removed (a copy)."""
    params = request.get("params")
    if not isinstance(params, dict):
        return request
    stripped = {key: value for key, value in params.items() if key not in _PORTICO_PARAMS}
    meta = params.get("_meta")
    if isinstance(meta, dict):
        kept = {key: value for key, value in meta.items() if not key.startswith(ENVELOPE_PREFIX)}
        if kept:
            stripped["_meta"] = kept
        else:
            del stripped["_meta"]
    return {**request, "params": stripped}


def client_capabilities(request: dict[str, Any]) -> dict[str, Any]:
    """The ``clientCapabilities`` the 2026-07-28 client declared in this request's envelope."""
    params = request.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    capabilities = meta.get(CLIENT_CAPABILITIES_KEY) if isinstance(meta, dict) else None
    return capabilities if isinstance(capabilities, dict) else {}


def modern_result(method: str, result: dict[str, Any], initialize_result: dict[str, Any]) -> dict[str, Any]:
    """A handshake-era result shaped as the 2026-07-28 result of ``method`` (see module docstring)."""
    shaped = {**result, "resultType": result.get("resultType", "complete")}
    if method in _CACHEABLE:
        shaped.setdefault("ttlMs", 0)
        shaped.setdefault("cacheScope", "private")
    server_info = initialize_result.get("serverInfo")
    meta = shaped.get("_meta")
    if isinstance(server_info, dict) and (meta is None or isinstance(meta, dict)):
        shaped["_meta"] = {SERVER_INFO_META_KEY: server_info, **(meta or {})}
    try:
        return serialize_server_result(method, LATEST_MODERN_VERSION, shaped)
    except KeyError:
        return shaped  # a method outside the spec's surface (vendor extension): passed as is
    except ValidationError:
        log.info("upstream result for %s does not fit the 2026-07-28 schema; relayed unchanged", method)
        return shaped


def discover_result(initialize_result: dict[str, Any]) -> dict[str, Any]:
    """``server/discover``'s result synthesized from the upstream's ``InitializeResult``.

    ``supportedVersions`` is the revision Portico serves for this upstream (2026-07-28);
    capabilities are the upstream's minus ``resources.subscribe`` (not bridged).
    """
    capabilities = initialize_result.get("capabilities")
    result: dict[str, Any] = {
        "supportedVersions": [LATEST_MODERN_VERSION],
        "capabilities": _without_subscriptions(capabilities if isinstance(capabilities, dict) else {}),
    }
    if isinstance(instructions := initialize_result.get("instructions"), str):
        result["instructions"] = instructions
    return modern_result("server/discover", result, initialize_result)


def _without_subscriptions(capabilities: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for name, value in capabilities.items():
        if isinstance(value, dict):
            value = {flag: on for flag, on in value.items() if flag not in _SUBSCRIPTION_FLAGS}
        shaped[name] = value
    return shaped


def handshake_input_response(response: dict[str, Any]) -> dict[str, Any]:
    """A 2026-07-28 ``InputResponse`` as the handshake-era result of the server's request."""
    return {key: value for key, value in response.items() if key != "resultType"}
