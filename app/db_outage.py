"""Database outages: the error every caller sees, and one WARNING per outage transition.

A database that refuses connections, stays silent past a timeout or has no pooled connection free
is *unavailable*: callers get :class:`DatabaseUnavailableError`, which :mod:`app.errors` answers
with 503 and ``Retry-After`` (RFC 9110 §15.6.4, §10.2.3) — an RFC 6749 §5.2 body with
``temporarily_unavailable`` on JSON endpoints, Portico's error page on browser ones — and the MCP
endpoints with a JSON-RPC error. No traceback per request: :class:`OutageLog` writes one WARNING
when the database goes down and one when it answers again (docs/adr/0006-bounded-database-work.md).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import exc

log = logging.getLogger("portico.db")

UNAVAILABILITY = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, TimeoutError)
"""Exceptions that mean "the database did not answer in time", not "the request was wrong":
refused or lost connections, connect/statement/lock timeouts (``OperationalError``), a pool with no
free connection (``sqlalchemy.exc.TimeoutError``) and an expired call (``TimeoutError``)."""


class DatabaseUnavailableError(Exception):
    """The database cannot serve this request now; ``retry_after`` is in seconds.

    ``reason`` names the failure by type only (``ConnectionTimeout``, ``QueryCanceled``, …): driver
    messages may carry host names and are kept out of responses.
    """

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"database unavailable ({reason})")
        self.reason = reason
        self.retry_after = retry_after


def reason_of(error: BaseException) -> str:
    """The type name of the driver's error behind ``error`` (``OperationalError`` → its ``orig``)."""
    original = getattr(error, "orig", None)
    return type(original if isinstance(original, BaseException) else error).__name__


class OutageLog:
    """Logs the transitions of one database between reachable and unavailable, once each (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_since: float | None = None

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def failed(self, reason: str) -> None:
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
        log.warning("database unavailable (%s): answering 503 until it recovers", reason)

    def answered(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._down_since = None
        log.warning("database available again after %.1f s", down_for)
