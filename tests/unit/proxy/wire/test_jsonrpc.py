"""JSON-RPC 2.0 classification (JSON-RPC 2.0 §4, §5; MCP basic/index.mdx ids)."""

from __future__ import annotations

import pytest

from proxy.wire.jsonrpc import (
    InvalidMessageError,
    JsonRpcError,
    JsonRpcNotification,
    JsonRpcRequest,
    JsonRpcResponse,
    decode_json,
    encode,
    error_message,
    parse_message,
)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, JsonRpcRequest),
        ({"jsonrpc": "2.0", "id": "a", "method": "x", "params": {}}, JsonRpcRequest),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, JsonRpcNotification),
        ({"jsonrpc": "2.0", "id": 1, "result": {}}, JsonRpcResponse),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "m"}}, JsonRpcError),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "m"}}, JsonRpcError),
    ],
)
def test_messages_are_classified_by_their_members(value: dict[str, object], kind: type) -> None:
    assert isinstance(parse_message(value), kind)


@pytest.mark.parametrize(
    "value",
    [
        [],
        "text",
        {"id": 1, "method": "x"},
        {"jsonrpc": "1.0", "id": 1, "method": "x"},
        {"jsonrpc": "2.0", "id": True, "method": "x"},
        {"jsonrpc": "2.0", "id": None, "method": "x"},
        {"jsonrpc": "2.0", "id": 1.5, "method": "x"},
        {"jsonrpc": "2.0", "id": 1, "method": ""},
        {"jsonrpc": "2.0", "id": 1, "method": "x", "params": 3},
        {"jsonrpc": "2.0", "id": 1, "result": {}, "error": {}},
        {"jsonrpc": "2.0", "id": 1},
    ],
)
def test_anything_else_is_an_invalid_request(value: object) -> None:
    """Spec-mandated: request ids are strings or integers, never null or booleans."""
    with pytest.raises(InvalidMessageError):
        parse_message(value)


def test_unknown_members_survive_a_round_trip() -> None:
    """Our choice: the gateway relays what it does not understand."""
    raw = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"taskId": "t", "x-new": [1]}, "x-top": {}}
    assert decode_json(encode(parse_message(raw).raw)) == raw


def test_encoded_messages_have_no_raw_newlines() -> None:
    """Spec-mandated (stdio transport): one message per line."""
    assert b"\n" not in encode({"text": "line one\nline two\u2028"})


def test_malformed_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_json(b'{"a": ')
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_json(b"[" * 100_000)


def test_error_message_carries_data_only_when_given() -> None:
    assert error_message(None, -32600, "bad") == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "bad"},
    }
    assert error_message(3, -32022, "v", {"supported": []})["error"]["data"] == {"supported": []}
