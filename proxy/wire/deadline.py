"""Per-request deadlines: the longest silence on one request and an absolute cap on its duration.

MCP lifecycle §Timeouts: implementations SHOULD establish timeouts for sent requests, SHOULD
send ``notifications/cancelled`` when one expires, and MAY reset the clock on a progress
notification for the request while still enforcing a maximum. Portico's two limits, seconds:

- ``request_timeout`` — the longest silence on one request: every message relayed for it (a
  progress notification, a server→client request, the response) resets the clock;
- ``max_request_duration`` — the absolute cap, however much progress arrives.

Each is ``servers.<name>.<limit>`` when set, else ``gateway.<limit>`` (300 s and 3600 s). On
expiry the client gets :class:`RequestTimeoutError` (-32001 "request timed out", the limit and
its key named; HTTP 504 while a plain JSON answer is still possible, else the error as the SSE
event) and the caller tells the upstream with ``notifications/cancelled``.

Cost on the hot path: no timer of its own. The relays already wait with a timeout for their
keep-alive comments; they wait ``min(keepalive, remaining())`` instead, and a relayed message
costs one ``time.monotonic()`` (bench/deadline_cost.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from proxy.wire.errors import GatewayError

REQUEST_TIMEOUT: Final = -32001  # the MCP SDK's REQUEST_TIMEOUT code
_EARLY: Final = 0.001  # a timer may fire this much before the deadline it was set for


class RequestTimeoutError(GatewayError):
    """-32001: a request ran into ``request_timeout`` or ``max_request_duration`` (``data.limit``, ``data.seconds``)."""

    code = REQUEST_TIMEOUT
    http_status = 504


@dataclass(frozen=True, slots=True)
class DeadlineLimits:
    """The two limits of one server, seconds, with the configuration key each came from."""

    request_timeout: float
    max_request_duration: float
    request_timeout_key: str
    max_request_duration_key: str


def deadline_limits(
    server: str,
    *,
    request_timeout: float | None,
    max_request_duration: float | None,
    default_request_timeout: float,
    default_max_request_duration: float,
) -> DeadlineLimits:
    """The server's own limits where set, else the gateway's defaults (keys named accordingly)."""
    return DeadlineLimits(
        request_timeout=request_timeout or default_request_timeout,
        max_request_duration=max_request_duration or default_max_request_duration,
        request_timeout_key=f"servers.{server}.request_timeout" if request_timeout else "gateway.request_timeout",
        max_request_duration_key=(
            f"servers.{server}.max_request_duration" if max_request_duration else "gateway.max_request_duration"
        ),
    )


class RequestDeadline:
    """The deadline of one request in flight, on the monotonic clock; :meth:`touch` on every message for it."""

    __slots__ = ("_last", "_started", "limits")

    def __init__(self, limits: DeadlineLimits) -> None:
        self.limits = limits
        self._started = self._last = time.monotonic()

    def touch(self) -> None:
        """A message for the request was relayed: the silence starts again."""
        self._last = time.monotonic()

    def remaining(self) -> float:
        """Seconds until the nearer limit (≤ 0 once expired)."""
        limits = self.limits
        due = min(self._last + limits.request_timeout, self._started + limits.max_request_duration)
        return due - time.monotonic()

    def wait(self, keepalive: float) -> float:
        """How long a relay may wait for the next message: until the next keep-alive or the deadline."""
        return max(0.0, min(keepalive, self.remaining()))

    def expired(self) -> RequestTimeoutError | None:
        """The error for the limit that expired, or None while both hold."""
        now = time.monotonic() + _EARLY
        limits = self.limits
        if now >= self._started + limits.max_request_duration:
            seconds, key, what = limits.max_request_duration, limits.max_request_duration_key, "ran for"
        elif now >= self._last + limits.request_timeout:
            seconds, key, what = limits.request_timeout, limits.request_timeout_key, "had no answer or progress for"
        else:
            return None
        return RequestTimeoutError(
            f"request timed out: it {what} {seconds:g} s (limit {key})",
            data={"limit": key, "seconds": seconds},
        )
