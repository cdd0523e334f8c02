"""Building and publishing :class:`~app.observe.records.AuthEvent` s from the authorization code.

:func:`auth_event` stamps the time; :func:`publish` stamps the current request ID (and the client
address when given) and hands the events to the bus. Call :func:`publish` on the event loop: the
authorization server's synchronous code collects its events (``ServerContext.events``) and
publishes them once its transaction has committed. No secret (token, code, cookie, client secret)
ever goes into an event: ``details`` holds names, grant types, scopes, servers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Literal

from app.observe.bus import EventBus
from app.observe.records import AuthEvent
from app.observe.request_id import current_request_id


def auth_event(
    kind: str,
    *,
    outcome: Literal["ok", "refused"] = "ok",
    subject: str | None = None,
    email: str | None = None,
    client_id: str | None = None,
    reason: str | None = None,
    **details: str | None,
) -> AuthEvent:
    """An event of ``kind`` now; ``details`` with None values left out."""
    return AuthEvent(
        at=time.time(),
        kind=kind,
        outcome=outcome,
        subject=subject,
        email=email,
        client_id=client_id,
        reason=reason,
        details={name: value for name, value in details.items() if value is not None},
    )


def publish(bus: EventBus, events: Iterable[AuthEvent], *, client_address: str | None = None) -> None:
    """Stamp ``events`` with the current request ID (and ``client_address``) and hand them to ``bus``."""
    request_id = current_request_id()
    for event in events:
        if event.request_id is None:
            event.request_id = request_id
        if event.client_address is None:
            event.client_address = client_address
        bus.auth_event(event)
