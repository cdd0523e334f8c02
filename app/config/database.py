"""``database``: the bounds of every database wait (connect, statement, lock, pool, call).

See docs/configuration.md §``database`` and docs/adr/0006-bounded-database-work.md.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from app.config.strict import Strict

__all__ = ["DatabaseConfig"]


class DatabaseConfig(Strict):
    """``database``: timeouts, pool and executor of the configured database. Times are seconds.

    A database that is refused, silent or exhausted makes endpoints answer 503 within
    ``call_timeout_seconds`` (``/readyz`` within ``readiness_timeout_seconds``); database work runs on
    its own ``workers`` threads, so endpoints that need no database keep answering.
    """

    connect_timeout_seconds: int = Field(default=5, ge=1)
    statement_timeout_seconds: float = Field(default=5.0, gt=0)
    lock_timeout_seconds: float = Field(default=3.0, gt=0)
    sqlite_busy_timeout_seconds: float = Field(default=5.0, gt=0)
    pool_pre_ping: bool = True
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    workers: int = Field(default=20, ge=1)
    call_timeout_seconds: float = Field(default=10.0, gt=0)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    retry_after_seconds: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _call_outlasts_its_parts(self) -> DatabaseConfig:
        if self.call_timeout_seconds < self.pool_timeout_seconds:
            raise ValueError("call_timeout_seconds must be at least pool_timeout_seconds")
        return self
