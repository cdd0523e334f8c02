"""Portico's own ``Mcp-Session-Id``s: random, bound to one user and one server, expired when idle.

The client only ever sees Portico's id (≥ 128 bits from ``secrets``; visible ASCII as the
transport requires, 2025-11-25 transports §Session Management). It maps to what the upstream
needs: the upstream server's own session id (Streamable HTTP upstreams, 1:1, replaced when the
upstream loses it: ``proxy/backends/http_recovery.py``) and the ``initialize`` parameters replayed
when an upstream session or a stdio process is (re)started. A session presented by
another user, or on another server's route, is answered exactly like an unknown one: 404
(2025-11-25 security best practices §Session Hijacking).

In memory only: sessions die with the process, and clients re-initialize on the 404 that follows.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio

from proxy.wire.errors import CapacityExceededError, SessionNotFoundError


@dataclass(eq=False)
class McpSession:
    """One client session. ``streams_open`` counts in-flight requests and GET streams."""

    mcp_session_id: str
    subject: str
    server: str
    protocol_version: str
    last_used: float
    upstream_session_id: str | None = None
    initialize_params: dict[str, Any] | None = None
    streams_open: int = 0
    attachments: dict[str, Any] = field(default_factory=dict)

    def touch(self) -> None:
        self.last_used = anyio.current_time()


class McpSessionRegistry:
    def __init__(self, *, idle_timeout: float, max_sessions: int, max_sessions_per_user: int) -> None:
        self.idle_timeout = idle_timeout
        self._max = max_sessions
        self._max_per_user = max_sessions_per_user
        self._sessions: dict[str, McpSession] = {}
        self._per_user: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, *, subject: str, server: str, protocol_version: str, **binding: Any) -> McpSession:
        """Mint a new session for ``subject`` on ``server``.

        Raises:
            CapacityExceededError: ``gateway.max_sessions`` or ``max_sessions_per_user`` reached.
        """
        if len(self._sessions) >= self._max or self._per_user[subject] >= self._max_per_user:
            raise CapacityExceededError("Too many open sessions", headers={"retry-after": "5"})
        session = McpSession(
            mcp_session_id=secrets.token_urlsafe(24),
            subject=subject,
            server=server,
            protocol_version=protocol_version,
            last_used=anyio.current_time(),
            **binding,
        )
        self._sessions[session.mcp_session_id] = session
        self._per_user[subject] += 1
        return session

    def lookup(self, mcp_session_id: str, *, subject: str, server: str) -> McpSession:
        """The live session with this id, if it belongs to ``subject`` on ``server``.

        Raises:
            SessionNotFoundError: unknown, expired, another user's or another server's session.
        """
        session = self._sessions.get(mcp_session_id)
        if session is None or not secrets.compare_digest(session.subject, subject) or session.server != server:
            raise SessionNotFoundError("Session not found")
        session.touch()
        return session

    def remove(self, mcp_session_id: str) -> McpSession | None:
        session = self._sessions.pop(mcp_session_id, None)
        if session is not None:
            self._per_user[session.subject] -= 1
            if self._per_user[session.subject] <= 0:
                del self._per_user[session.subject]
        return session

    def expire_idle(self, now: float) -> list[McpSession]:
        """Remove and return every session with nothing open and no use for ``idle_timeout``."""
        expired = [
            session
            for session in self._sessions.values()
            if session.streams_open == 0 and now - session.last_used > self.idle_timeout
        ]
        for session in expired:
            self.remove(session.mcp_session_id)
        return expired

    def matching(self, server: str, subject: str | None = None) -> list[McpSession]:
        """Live sessions on ``server`` (of ``subject`` when given)."""
        return [s for s in self._sessions.values() if s.server == server and (subject is None or s.subject == subject)]

    def all(self) -> list[McpSession]:
        return list(self._sessions.values())
