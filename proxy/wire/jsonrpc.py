"""JSON-RPC 2.0 messages as the gateway handles them: decoded dicts, classified, never re-modelled.

The gateway relays messages it does not understand untouched (tasks, apps, extensions, fields of
future revisions), so a message stays the dict it was decoded into; the classes below are thin
views that name the parts the gateway reads (``id``, ``method``, ``params``). Shapes follow
JSON-RPC 2.0 §4 (request, notification), §5 (response, error object) and MCP basic/index.mdx
(ids are strings or integers, never null, for requests).

Error codes are the standard ones plus MCP's 2026-07-28 transport codes, taken from ``mcp_types``
so they cannot drift from the SDK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from mcp_types.jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)

__all__ = [
    "HEADER_MISMATCH",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "PARSE_ERROR",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "InvalidMessageError",
    "JsonRpcError",
    "JsonRpcMessage",
    "JsonRpcNotification",
    "JsonRpcRequest",
    "JsonRpcResponse",
    "RequestId",
    "decode_json",
    "encode",
    "error_message",
    "parse_message",
]

RequestId = str | int
JSONRPC: Final = "2.0"


class InvalidMessageError(ValueError):
    """A decoded value that is not one JSON-RPC 2.0 message (JSON-RPC -32600)."""


class _MethodCall:
    """The parts requests and notifications share: ``method`` and an object ``params``."""

    __slots__ = ()
    raw: dict[str, Any]

    @property
    def method(self) -> str:
        value: str = self.raw["method"]
        return value

    @property
    def params(self) -> dict[str, Any] | None:
        params = self.raw.get("params")
        return params if isinstance(params, dict) else None


@dataclass(frozen=True, slots=True)
class JsonRpcRequest(_MethodCall):
    """``{"jsonrpc": "2.0", "id": …, "method": …, "params"?: {…}}``: expects exactly one response."""

    raw: dict[str, Any]

    @property
    def id(self) -> RequestId:
        value: RequestId = self.raw["id"]
        return value


@dataclass(frozen=True, slots=True)
class JsonRpcNotification(_MethodCall):
    """``{"jsonrpc": "2.0", "method": …, "params"?: {…}}``: no ``id``, never answered."""

    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JsonRpcResponse:
    """``{"jsonrpc": "2.0", "id": …, "result": {…}}``."""

    raw: dict[str, Any]

    @property
    def id(self) -> RequestId:
        value: RequestId = self.raw["id"]
        return value


@dataclass(frozen=True, slots=True)
class JsonRpcError:
    """``{"jsonrpc": "2.0", "id": … | null, "error": {"code", "message", "data"?}}``."""

    raw: dict[str, Any]

    @property
    def id(self) -> RequestId | None:
        value: RequestId | None = self.raw.get("id")
        return value

    @property
    def code(self) -> int | None:
        code = self.raw["error"].get("code")
        return code if isinstance(code, int) else None


JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse | JsonRpcError


class DuplicateKeyError(ValueError):
    """An object names a member twice (RFC 8259 §4: names SHOULD be unique; I-JSON, RFC 7493 §2.3: MUST)."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise DuplicateKeyError("duplicate member name")
    return members


# One decoder, built once: json.loads(..., object_pairs_hook=...) would build one per call.
_DECODER: Final = json.JSONDecoder(object_pairs_hook=_unique_members)


def decode_json(body: bytes) -> object:
    """Decode a body as I-JSON (RFC 7493): strict UTF-8, no duplicate member names at any depth.

    Portico reads the decoded message but relays the raw bytes, so a body two parsers could read
    differently (``{"method":"a","method":"b"}``, a lone surrogate, UTF-16) is refused rather than
    resolved last-wins (issue #15 finding 9). bench/json_envelope.py measures the cost.

    Raises:
        ValueError: not such JSON (JSON-RPC -32700); includes over-deep nesting and huge integers.
    """
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and DuplicateKeyError are ValueErrors
        raise ValueError("body is not valid JSON") from error


def parse_message(value: object) -> JsonRpcMessage:
    """Classify one decoded JSON-RPC message by its members (JSON-RPC 2.0 §4, §5).

    Raises:
        InvalidMessageError: not an object, wrong ``jsonrpc``, a bad ``id`` or ``method``, or an
            object that is neither request, notification, response nor error.
    """
    if not isinstance(value, dict):
        raise InvalidMessageError("a JSON-RPC message must be an object")
    if value.get("jsonrpc") != JSONRPC:
        raise InvalidMessageError('"jsonrpc" must be "2.0"')
    if "method" in value:
        return _parse_call(value)
    if "result" in value and "error" not in value:
        _require_id(value)
        return JsonRpcResponse(value)
    if "error" in value and "result" not in value and isinstance(value["error"], dict):
        if value.get("id") is not None:
            _require_id(value)
        return JsonRpcError(value)
    raise InvalidMessageError("not a request, notification, response or error")


def _parse_call(value: dict[str, Any]) -> JsonRpcRequest | JsonRpcNotification:
    if not isinstance(value["method"], str) or not value["method"]:
        raise InvalidMessageError('"method" must be a non-empty string')
    params = value.get("params")
    if params is not None and not isinstance(params, dict | list):
        raise InvalidMessageError('"params" must be an object')
    if "id" not in value:
        return JsonRpcNotification(value)
    _require_id(value)
    return JsonRpcRequest(value)


def _require_id(value: dict[str, Any]) -> None:
    request_id = value.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        raise InvalidMessageError('"id" must be a string or an integer')


def error_message(request_id: RequestId | None, code: int, message: str, data: object = None) -> dict[str, Any]:
    """A JSON-RPC error response (JSON-RPC 2.0 §5.1); ``id`` is null when the request's is unknown."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": JSONRPC, "id": request_id, "error": error}


def encode(message: object) -> bytes:
    """Compact UTF-8 JSON with no raw newlines (stdio framing relies on it: MCP stdio transport)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
