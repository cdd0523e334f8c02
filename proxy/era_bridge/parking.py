"""Upstream requests parked while a 2026-07-28 client answers an ``input_required`` result.

A handshake-era upstream asks for input *during* a request (``elicitation/create``,
``sampling/createMessage``) and waits; a 2026-07-28 client answers input only by retrying the
request (SEP-2322). So Portico ends the client's response with ``input_required``, keeps the
upstream request in flight, and holds what the upstream sends for it meanwhile. The retry
(authenticated by its ``requestState``, ``request_state.py``) claims the parked request once; an
unclaimed one is dropped after the state's lifetime (the upstream's request is then cancelled).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from proxy.era_bridge.request_state import InvalidRequestStateError, RequestStateCodec
from proxy.upstream.multiplexer import Pending
from proxy.upstream.pool import Upstream
from proxy.wire.jsonrpc import RequestId
from proxy.wire.outbox import Outbox, Outgoing

_HELD_NOTIFICATIONS: Final = 32


class HoldingOutbox(Outbox):
    """Keeps what arrives for a parked request (its final response always; a few notifications)."""

    def __init__(self, label: str) -> None:
        super().__init__(1, label)
        self.held: list[Outgoing] = []

    def put(self, item: Outgoing) -> bool:
        if not item.final and sum(1 for held in self.held if not held.final) >= _HELD_NOTIFICATIONS:
            return False
        self.held.append(item)
        return True


@dataclass(eq=False)
class ParkedRequest:
    """One upstream request waiting for the answer to its server→client request ``server_request_id``."""

    upstream: Upstream
    pending: Pending
    server_request_id: RequestId
    input_key: str
    subject: str
    server: str
    holding: HoldingOutbox


class ParkedRequests:
    """Parked requests of every bridged server, by a random id that only a ``requestState`` names."""

    def __init__(self, codec: RequestStateCodec) -> None:
        self.codec = codec
        self._parked: dict[str, ParkedRequest] = {}

    def park(self, parked: ParkedRequest) -> tuple[str, str]:
        """Park ``parked``; returns its id and the ``requestState`` that resumes it."""
        parked_id = secrets.token_urlsafe(16)
        self._parked[parked_id] = parked
        return parked_id, self.codec.issue(parked_id, subject=parked.subject, server=parked.server)

    def claim(self, state: object, *, subject: str, server: str) -> ParkedRequest:
        """The parked request ``state`` resumes, removed from the registry (single use).

        Raises:
            InvalidRequestStateError: the state is not valid for this user and server, or its
                request is gone (already resumed, expired, or the upstream ended).
        """
        parked_id = self.codec.verify(state, subject=subject, server=server)
        parked = self._parked.get(parked_id)
        if parked is None or parked.subject != subject or parked.server != server:
            raise InvalidRequestStateError("Invalid params: requestState names no pending request (already used?)")
        del self._parked[parked_id]
        return parked

    def drop(self, parked_id: str) -> ParkedRequest | None:
        """Remove a parked request that nobody claimed (expiry); None if it was claimed meanwhile."""
        return self._parked.pop(parked_id, None)

    def __len__(self) -> int:
        return len(self._parked)
