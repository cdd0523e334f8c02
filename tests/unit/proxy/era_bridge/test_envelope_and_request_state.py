"""The era bridge's pure pieces: envelope translation and the HMAC-bound ``requestState``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mcp_types.methods import validate_server_result

from app.crypto import generate_secret
from app.crypto.keyring import KeyRing
from proxy.era_bridge.envelope import discover_result, modern_result, strip_envelope
from proxy.era_bridge.request_state import InvalidRequestStateError, RequestStateCodec, request_state_key

INIT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {"listChanged": True}, "resources": {"subscribe": True}},
    "serverInfo": {"name": "old", "version": "1"},
    "instructions": "be nice",
}


def codec(now: float = 1_000_000.0) -> RequestStateCodec:
    return RequestStateCodec(b"k" * 32, lifetime=300, clock=lambda: now)


def test_the_envelope_is_stripped_and_the_progress_token_kept() -> None:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "progressToken": 7, "x": 1}
    request = {"id": 1, "method": "tools/call", "params": {"name": "a", "_meta": meta, "requestState": "s"}}
    assert strip_envelope(request)["params"] == {"name": "a", "_meta": {"progressToken": 7, "x": 1}}


def test_discover_is_a_valid_2026_result_without_resource_subscriptions() -> None:
    result = discover_result(INIT)
    validate_server_result("server/discover", "2026-07-28", result)
    assert result["capabilities"] == {"tools": {"listChanged": True}, "resources": {}}
    assert result["instructions"] == "be nice"


def test_list_results_gain_the_required_2026_fields() -> None:
    result = modern_result("tools/list", {"tools": [{"name": "a", "inputSchema": {"type": "object"}}]}, INIT)
    validate_server_result("tools/list", "2026-07-28", result)
    assert (result["ttlMs"], result["cacheScope"], result["resultType"]) == (0, "private", "complete")


def test_a_state_verifies_for_its_user_and_server_only() -> None:
    state = codec().issue("p1", subject="alice", server="s")
    assert codec().verify(state, subject="alice", server="s") == "p1"
    for subject, server in [("bob", "s"), ("alice", "t")]:
        with pytest.raises(InvalidRequestStateError):
            codec().verify(state, subject=subject, server=server)


MANGLES = [lambda s: s[:-2] + "AA", lambda s: "x" + s, lambda s: s.replace(".", ""), str.upper]


@pytest.mark.parametrize("mangle", MANGLES)
def test_a_tampered_or_malformed_state_is_refused(mangle: Callable[[str], str]) -> None:
    state = codec().issue("p1", subject="alice", server="s")
    with pytest.raises(InvalidRequestStateError) as refused:
        codec().verify(mangle(state), subject="alice", server="s")
    assert state not in refused.value.message


def test_an_expired_state_is_refused() -> None:
    state = codec(now=1_000_000.0).issue("p1", subject="alice", server="s")
    with pytest.raises(InvalidRequestStateError, match="expired"):
        codec(now=1_000_301.0).verify(state, subject="alice", server="s")


def test_the_key_is_derived_from_the_key_ring_per_root() -> None:
    first, second = KeyRing((generate_secret().encode(),)), KeyRing((generate_secret().encode(),))
    assert request_state_key(first) == request_state_key(first)
    assert request_state_key(first) != request_state_key(second)
    assert len(request_state_key(first)) == 32
