"""Portico's Mcp-Session-Id registry: random, bound to user and server, capped, idle-expired."""

from __future__ import annotations

import re

import anyio
import pytest

from proxy.wire.errors import CapacityExceededError, SessionNotFoundError
from proxy.wire.mcp_sessions import McpSessionRegistry

pytestmark = pytest.mark.anyio


def registry(**overrides: float) -> McpSessionRegistry:
    options = {"idle_timeout": 60.0, "max_sessions": 100, "max_sessions_per_user": 3} | overrides
    return McpSessionRegistry(**options)  # type: ignore[arg-type]


async def test_ids_are_long_random_visible_ascii() -> None:
    """Spec-mandated (transports §Session Management): visible ASCII; ours carry 192 random bits."""
    sessions = registry()
    ids = {sessions.create(subject="1", server="s", protocol_version="2025-11-25").mcp_session_id for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[\x21-\x7e]{32}", i) for i in ids)


async def test_a_session_is_found_only_by_its_user_on_its_server() -> None:
    """Spec-mandated (security best practices §Session Hijacking): bound to the user."""
    sessions = registry()
    session = sessions.create(subject="1", server="s", protocol_version="2025-11-25")
    assert sessions.lookup(session.mcp_session_id, subject="1", server="s") is session
    for subject, server in (("2", "s"), ("1", "other")):
        with pytest.raises(SessionNotFoundError):
            sessions.lookup(session.mcp_session_id, subject=subject, server=server)


async def test_per_user_cap() -> None:
    sessions = registry(max_sessions_per_user=2)
    for _ in range(2):
        sessions.create(subject="1", server="s", protocol_version="v")
    with pytest.raises(CapacityExceededError):
        sessions.create(subject="1", server="s", protocol_version="v")
    sessions.create(subject="2", server="s", protocol_version="v")


async def test_idle_sessions_expire_unless_a_stream_is_open() -> None:
    sessions = registry(idle_timeout=0.05)
    idle = sessions.create(subject="1", server="s", protocol_version="v")
    busy = sessions.create(subject="1", server="s", protocol_version="v")
    busy.streams_open = 1
    await anyio.sleep(0.1)
    assert sessions.expire_idle(anyio.current_time()) == [idle]
    with pytest.raises(SessionNotFoundError):
        sessions.lookup(idle.mcp_session_id, subject="1", server="s")
    assert len(sessions) == 1
