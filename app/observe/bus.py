"""Fan-out of records to whoever observes them (metrics, audit), decided once at startup.

Producers check :attr:`EventBus.observes_mcp` before building a :class:`McpRequestRecord`, so with
no observer the data plane builds nothing. Observers are called synchronously on the event loop and
must be quick and never raise (a metrics increment, an append to a bounded queue).
"""

from __future__ import annotations

import logging
from typing import Protocol

from app.observe.records import AuthEvent, McpRequestRecord

log = logging.getLogger("portico.observe")


class McpObserver(Protocol):
    def mcp_request(self, record: McpRequestRecord) -> None: ...


class AuthObserver(Protocol):
    def auth_event(self, event: AuthEvent) -> None: ...


class EventBus:
    """The observers of this process (empty: nothing is built or sent)."""

    def __init__(self) -> None:
        self._mcp: list[McpObserver] = []
        self._auth: list[AuthObserver] = []
        self.wants_arguments = False
        """True when an observer records tool arguments (``audit.include_arguments``): producers then
        fill :attr:`McpRequestRecord.arguments`; otherwise they never copy them."""

    @property
    def observes_mcp(self) -> bool:
        return bool(self._mcp)

    def add_mcp(self, observer: McpObserver) -> None:
        self._mcp.append(observer)

    def add_auth(self, observer: AuthObserver) -> None:
        self._auth.append(observer)

    def mcp_request(self, record: McpRequestRecord) -> None:
        for observer in self._mcp:
            try:
                observer.mcp_request(record)
            except Exception:  # an observer's bug must not fail a request
                log.exception("MCP request observer failed")

    def auth_event(self, event: AuthEvent) -> None:
        for observer in self._auth:
            try:
                observer.auth_event(event)
            except Exception:
                log.exception("authorization event observer failed")
