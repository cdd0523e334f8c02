"""Bounded label values: a metric's label set never grows with user input (names, emails, arguments)."""

from __future__ import annotations

import threading
from typing import Final

from mcp_types.methods import CLIENT_NOTIFICATIONS, CLIENT_REQUESTS

MCP_METHODS: Final = frozenset(m for m, _v in CLIENT_REQUESTS) | frozenset(m for m, _v in CLIENT_NOTIFICATIONS)
"""The client→server method names of every MCP revision (the SDK's method maps)."""
GRANT_TYPES: Final = frozenset(
    {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    }
)
OTHER: Final = "other"
NONE: Final = "none"


def method_label(method: str) -> str:
    """An MCP method name as is, ``none`` for a body never read (or a response), else ``other``."""
    if method in MCP_METHODS:
        return method
    return NONE if not method else OTHER


def grant_type_label(grant_type: str | None) -> str:
    return grant_type if grant_type in GRANT_TYPES else OTHER if grant_type else NONE


class CappedLabel:
    """Admits the first ``limit`` distinct values it sees (e.g. provider names from the config), then ``other``."""

    def __init__(self, limit: int = 32, known: frozenset[str] = frozenset()) -> None:
        self._seen: set[str] = set(known)
        self._limit = max(limit, len(known))
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        if not value:
            return NONE
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self._limit and len(value) <= 64:
                self._seen.add(value)
                return value
        return OTHER
