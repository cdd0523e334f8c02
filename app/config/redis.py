"""``redis``: the Redis server that shares rate-limit state across workers and instances (docs/limits.md).

``url`` may hold a password (write it as ``${REDIS_URL}``); it is never logged nor part of an error.
Absent, rate limits are kept in each process's memory.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from app.config.strict import Strict

__all__ = ["RedisConfig"]

_SCHEMES = ("redis://", "rediss://", "unix://")


class RedisConfig(Strict):
    """``redis``: ``url`` (None: no Redis), the bound of one call and the key prefix."""

    url: str | None = None
    # One Redis call (connect included) as the hot path waits for it; then the in-process fallback.
    timeout_ms: int = Field(default=100, ge=5, le=5000)
    # After a failed call, Redis is not tried again for this long (each call costs nothing meanwhile).
    retry_seconds: float = Field(default=5.0, gt=0, le=300)
    key_prefix: str = Field(default="portico:", min_length=1, max_length=64)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_SCHEMES):
            raise ValueError("must start with redis://, rediss:// or unix://")  # the value is not echoed
        return value
