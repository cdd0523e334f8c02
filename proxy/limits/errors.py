"""The JSON-RPC error of a request over a rate limit or quota (issue #21; docs/limits.md).

-32014 with HTTP 429 and ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) when the answer is a plain
JSON response (Streamable HTTP POST, both eras); on a stream (legacy SSE) the same JSON-RPC error.
``data`` = ``{limit, retry_after, reason}``: the rule's name, whole seconds, ``rate_limited`` or
``quota_exceeded`` — never a bucket key, a count or anything of another user.
"""

from __future__ import annotations

from app.limits.buckets import Refusal
from proxy.wire.errors import GatewayError

RATE_LIMITED = -32014
"""Portico's code for a request refused by ``limits.rules`` / ``limits.quotas``."""


class RateLimitedError(GatewayError):
    """A request over the limit ``refusal.rule``."""

    code = RATE_LIMITED
    http_status = 429

    def __init__(self, refusal: Refusal) -> None:
        seconds = refusal.retry_after
        if refusal.quota:
            message = f"Quota {refusal.rule!r} used up; retry after {seconds} s"
        else:
            message = f"Rate limit {refusal.rule!r} reached; retry after {seconds} s"
        super().__init__(
            message,
            data={
                "limit": refusal.rule,
                "retry_after": seconds,
                "reason": "quota_exceeded" if refusal.quota else "rate_limited",
            },
            headers={"retry-after": str(seconds)},
        )
