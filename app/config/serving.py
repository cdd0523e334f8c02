"""How the ``portico serve`` process runs: ``listen``, ``limits`` and ``logging``.

See docs/configuration.md §Top level, §``limits`` and §``logging``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.config.strict import Strict

__all__ = ["LimitsConfig", "ListenConfig", "LoggingConfig"]


class ListenConfig(Strict):
    """``listen``: where ``portico serve`` binds (docs/configuration.md §Top level)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    shutdown_grace: float = Field(default=10.0, ge=0)


class LimitsConfig(Strict):
    """``limits``: request limits (docs/configuration.md §``limits``)."""

    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)


class LoggingConfig(Strict):
    """``logging``: level and line format of the log (docs/configuration.md §``logging``)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"
